import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32, uniform01, type ModuleId } from '@adalora/core';
import { loadTokenizer } from '@adalora/data';
import { createTeacherModel, type TeacherSpec } from '@adalora/training';

/**
 * The adapted matrices of a comparison: the four square ones of attention, so that every matrix
 * has in + out = 2 × hidden and equal rank budgets are equal counts of adapter values.
 */
export const COMPARE_TARGETS = ['query', 'key', 'value', 'attention.output.dense'] as const;

/** One task of the comparison, written to disk: a base checkpoint and teacher-labelled splits. */
export interface CompareTask {
  readonly name: 'teacher' | 'text';
  readonly modelDir: string;
  readonly trainFile: string;
  readonly devFile: string;
  /** 'pretokenized' rows of ids, or 'jsonl' text rows tokenized by `tokenizer` */
  readonly format: 'pretokenized' | 'jsonl';
  readonly tokenizer?: string;
  readonly trueRanks: ReadonlyMap<ModuleId, number>;
}

export interface TaskSize {
  readonly train: number;
  readonly dev: number;
}

const square = (q: number, k: number, v: number, o: number) => ({ 'attention.self.query': q, 'attention.self.key': k, 'attention.self.value': v, 'attention.output.dense': o });

/**
 * A harder cousin of the built-in task: three layers, and the rank the teacher changed differs
 * from matrix to matrix and layer to layer (6, 4 and 3 on three matrices, 1 or 0 on the rest;
 * 17 in all over 12 matrices), so a uniform rank wastes budget where a matrix needs none and
 * lacks it where one needs 4–6.
 */
const TEACHER: Omit<TeacherSpec, 'seed'> = {
  shape: { vocab: 64, hidden: 32, layers: 3, heads: 4, intermediate: 64, maxPositions: 32 },
  ranks: [square(6, 0, 1, 0), square(1, 4, 0, 1), square(0, 1, 0, 3)],
};
const TEACHER_SEQ = 8;

/** The text task's teacher: the fixture tokenizer's vocabulary, two layers, ranks 5 and 4 on two matrices, 0 or 1 elsewhere. */
const TEXT_TEACHER_RANKS = [square(0, 5, 1, 0), square(4, 0, 0, 1)];
/** Words of the fixture tokenizer (whole words and words it splits into pieces: acting → act ##ing). */
const WORDS = ['the', 'movie', 'movies', 'was', 'good', 'bad', 'not', 'very', 'great', 'plot', 'plots', 'acting', 'acted', 'badly', 'a', 'act', ',', '.', '!'];

/** Writes the teacher task under `dir`: random token rows labelled by a teacher of mixed ranks. */
export async function createTeacherCompareTask(dir: string, seed: number, size: TaskSize): Promise<CompareTask> {
  const uniform = uniform01(mulberry32(seed + 1));
  const vocab = TEACHER.shape.vocab;
  const rows = Array.from({ length: size.train + size.dev }, () => Array.from({ length: TEACHER_SEQ }, () => 1 + Math.floor(uniform() * (vocab - 1))));
  const teacher = await createTeacherModel(join(dir, 'base-model'), { ...TEACHER, seed }, rows);
  const lines = rows.map((ids, i) => JSON.stringify({ input_ids: ids, label: teacher.labels[i] }));
  return { name: 'teacher', modelDir: teacher.modelDir, ...writeSplits(dir, lines, size.train), format: 'pretokenized', trueRanks: teacher.trueRanks };
}

/**
 * Writes the text task under `dir`: sentences of 3–12 words of the fixture tokenizer's
 * vocabulary, tokenized by it ([CLS] … [SEP]), labelled by a teacher that reads those ids. The
 * training run reads the text and tokenizes it again, as any text task.
 */
export async function createTextCompareTask(dir: string, seed: number, size: TaskSize, tokenizerPath: string): Promise<CompareTask> {
  const tokenizer = loadTokenizer(tokenizerPath);
  const uniform = uniform01(mulberry32(seed + 1));
  const sentences = Array.from({ length: size.train + size.dev }, () =>
    Array.from({ length: 3 + Math.floor(uniform() * 10) }, () => WORDS[Math.floor(uniform() * WORDS.length)]).join(' '),
  );
  const rows = sentences.map((s) => Array.from(tokenizer.encode(s).inputIds));
  const vocab = tokenizer.vocabSize;
  const longest = Math.max(...rows.map((r) => r.length));
  const shape = { vocab, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: Math.max(32, longest) };
  const teacher = await createTeacherModel(join(dir, 'base-model'), { shape, ranks: TEXT_TEACHER_RANKS, seed }, rows);
  const lines = sentences.map((sentence, i) => JSON.stringify({ sentence, label: teacher.labels[i] }));
  return { name: 'text', modelDir: teacher.modelDir, ...writeSplits(dir, lines, size.train), format: 'jsonl', tokenizer: tokenizerPath, trueRanks: teacher.trueRanks };
}

function writeSplits(dir: string, lines: readonly string[], train: number): { trainFile: string; devFile: string } {
  mkdirSync(dir, { recursive: true });
  const trainFile = join(dir, 'train.jsonl');
  const devFile = join(dir, 'dev.jsonl');
  writeFileSync(trainFile, lines.slice(0, train).join('\n') + '\n');
  writeFileSync(devFile, lines.slice(train).join('\n') + '\n');
  return { trainFile, devFile };
}
