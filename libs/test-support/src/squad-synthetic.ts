import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { mulberry32 } from '@adalora/core';

/**
 * A seeded SQuAD-format data set for end-to-end tests of extractive QA (no download).
 *
 * Test support: product code never imports it.
 *
 * Contexts are sentences of words spelled from a WordPiece vocabulary (whole-word tokens,
 * optionally with a `##` suffix), so the tokenizer maps them to known tokens. Each question is
 * the three context words just before its answer (1–3 words), which a model can learn to find;
 * v2.0 adds unanswerable questions made of three words that never appear in that order in the
 * context.
 */
export interface SyntheticSquadOptions {
  /** PRNG seed. Default 1. */
  readonly seed?: number;
  /** Articles, paragraphs per article, questions per paragraph. Defaults 10, 4, 6 (240 questions). */
  readonly articles?: number;
  readonly paragraphsPerArticle?: number;
  readonly questionsPerParagraph?: number;
  /** Words per context. Default 80 (longer than one 64-token window). */
  readonly contextWords?: number;
  /** v2.0: every `unanswerableEvery`-th question is unanswerable. Default 3. */
  readonly unanswerableEvery?: number;
}

/** SQuAD JSON as the official files lay it out. */
export interface SquadJson {
  readonly version: string;
  readonly data: readonly {
    readonly title: string;
    readonly paragraphs: readonly {
      readonly context: string;
      readonly qas: readonly { id: string; question: string; answers: { text: string; answer_start: number }[]; is_impossible?: boolean }[];
    }[];
  }[];
}

/** The v1.1 and v2.0 data sets for one seed (the same contexts; v2.0 adds unanswerables). */
export function syntheticSquad(vocabulary: readonly string[], opts: SyntheticSquadOptions = {}): { v1: SquadJson; v2: SquadJson } {
  const { seed = 1, articles = 10, paragraphsPerArticle = 4, questionsPerParagraph = 6, contextWords = 80, unanswerableEvery = 3 } = opts;
  const stems = vocabulary.filter((t) => /^[a-z]{2,}$/.test(t));
  const suffixes = vocabulary.filter((t) => /^##[a-z]+$/.test(t)).map((t) => t.slice(2));
  if (stems.length < 4) throw new Error(`syntheticSquad: the vocabulary has ${stems.length} lower-case whole words, at least 4 are needed`);
  const next = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length];
  const word = (): string => (suffixes.length > 0 && next() % 4 === 0 ? pick(stems) + pick(suffixes) : pick(stems));

  const v1: SquadJson['data'][number][] = [];
  const v2: SquadJson['data'][number][] = [];
  let q = 0;
  for (let a = 0; a < articles; a++) {
    const p1: SquadJson['data'][number]['paragraphs'][number][] = [];
    const p2: SquadJson['data'][number]['paragraphs'][number][] = [];
    for (let p = 0; p < paragraphsPerArticle; p++) {
      // Words, with a sentence end ('.' or '!' glued to a word) every 6–11 words.
      const words: string[] = [];
      const ends = new Set<number>();
      for (let i = 0, left = 6 + (next() % 6); i < contextWords; i++, left--) {
        words.push(word());
        if (left === 0 || i === contextWords - 1) {
          ends.add(i);
          left = 6 + (next() % 6);
        }
      }
      const starts: number[] = [];
      let context = '';
      words.forEach((w, i) => {
        if (i > 0) context += ' ';
        starts.push(context.length);
        context += ends.has(i) ? `${w}${next() % 2 ? '.' : '!'}` : w;
      });
      const qas1: SquadJson['data'][number]['paragraphs'][number]['qas'][number][] = [];
      const qas2: typeof qas1 = [];
      for (let k = 0; k < questionsPerParagraph; k++, q++) {
        const id = `syn-${seed}-${q}`;
        const first = 3 + (next() % (words.length - 6)); // three words before, room for three after
        const len = 1 + (next() % 3);
        // Spans of the context text: punctuation inside stays, a sentence end after the last word not.
        const text = (from: number, to: number): string => context.slice(starts[from], starts[to] + words[to].length);
        const answerStart = starts[first];
        const answer = text(first, first + len - 1);
        const question = text(first - 3, first - 1);
        qas1.push({ id, question, answers: [{ text: answer, answer_start: answerStart }] });
        if (unanswerableEvery > 0 && k % unanswerableEvery === unanswerableEvery - 1) {
          qas2.push({ id, question: absentTrigram(words, word), answers: [], is_impossible: true });
        } else {
          qas2.push({ id, question, answers: [{ text: answer, answer_start: answerStart }], is_impossible: false });
        }
      }
      p1.push({ context, qas: qas1 });
      p2.push({ context, qas: qas2 });
    }
    v1.push({ title: `article ${a}`, paragraphs: p1 });
    v2.push({ title: `article ${a}`, paragraphs: p2 });
  }
  return { v1: { version: '1.1', data: v1 }, v2: { version: 'v2.0', data: v2 } };
}

// Three words that never follow each other in `words`.
function absentTrigram(words: readonly string[], word: () => string): string {
  const seen = new Set(words.slice(2).map((w, i) => `${words[i]} ${words[i + 1]} ${w}`));
  for (;;) {
    const t = `${word()} ${word()} ${word()}`;
    if (!seen.has(t)) return t;
  }
}

/**
 * Writes `squad-v1.1.json` and `squad-v2.0.json` of {@link syntheticSquad} into `dir` (created
 * if needed) and returns their paths. `vocabulary`: e.g. every token of the fixture tokenizer.
 */
export function writeSyntheticSquad(dir: string, vocabulary: readonly string[], opts: SyntheticSquadOptions = {}): { v1: string; v2: string } {
  const { v1, v2 } = syntheticSquad(vocabulary, opts);
  mkdirSync(dir, { recursive: true });
  const files = { v1: path.join(dir, 'squad-v1.1.json'), v2: path.join(dir, 'squad-v2.0.json') };
  writeFileSync(files.v1, JSON.stringify(v1));
  writeFileSync(files.v2, JSON.stringify(v2));
  return files;
}
