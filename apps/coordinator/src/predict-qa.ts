import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataConfig } from '@adalora/config';
import { evaluateQa, qaEvalSplit, readSquadFile } from '@adalora/coordinator';
import { collate, detectSquadVersion, loadTokenizer, type Dataset, type QaPredictions, type SquadExample } from '@adalora/data';
import { loadBaseForAdapter, loadPeftAdapter, loadQaModel, type QaModel } from '@adalora/models';
import { disposeEncoderInputs, evalOutputs, toEncoderInputs } from '@adalora/training';
import { qaOutputFiles } from './qa-output-files';

/** What `adalora predict` needs to answer a SQuAD file with a QA adapter. */
export interface PredictQaOptions {
  readonly baseDir: string;
  readonly adapterDir: string;
  readonly dataFile: string;
  /** `.json`: HF run_qa's predictions.json (id → answer), v2 also its null_odds.json beside it; else JSONL, one question a line (qaOutputFiles). */
  readonly outFile: string;
  /** data.task qa: maxLength and data.qa's windowing and post-processing, as the run had them. */
  readonly data: DataConfig;
  readonly tokenizerDir?: string;
  /** windows per forward pass */
  readonly batchSize: number;
}

/** What {@link predictQa} found: the official SQuAD scores when the file has answers. */
export interface PredictQaResult {
  readonly questions: number;
  readonly windows: number;
  readonly version: '1.1' | '2.0';
  /** em, f1 (0–100), v2's HasAns_* / NoAns_*; the dev evaluation's names */
  readonly metrics: Readonly<Record<string, number>> | null;
  /** HF's QA loss on the gold spans, mean over windows (the dev evaluation's loss) */
  readonly loss: number | null;
  /** the files written */
  readonly files: readonly string[];
}

/**
 * Answers a SQuAD v1.1/v2.0 file (JSON or JSONL) with a base model and a QA adapter, in this
 * process: windows the questions as the run's dev split (`qaEvalSplit`), runs the adapted
 * `*ForQuestionAnswering` model, and post-processes and scores with the coordinator's own
 * evaluation (`evaluateQa`), so a run's dev file gets the run's final dev scores.
 */
export async function predictQa(o: PredictQaOptions, log: (line: string) => void): Promise<PredictQaResult> {
  const qa = o.data.qa;
  if (!qa) throw new Error('unreachable: predictQa without data.task qa');
  const examples = readSquadFile(o.dataFile, o.data);
  const version = squadVersion(o, examples, log);
  const labelled = hasAnswers(o.dataFile, examples, version);
  const tokenizer = loadTokenizer(o.tokenizerDir ?? o.baseDir);
  const { dev, qaDev } = qaEvalSplit(examples, tokenizer, { maxLength: o.data.maxLength, settings: qa, version2: version === '2.0', file: o.dataFile });

  // a fixed seed for a head the base lacks: the adapter's qa_outputs replace it
  const { model, config } = await loadBaseForAdapter(o.baseDir, o.adapterDir, () => loadQaModel(o.baseDir, { headSeed: 0 }), log);
  try {
    const { injected } = await loadPeftAdapter(o.adapterDir, model);
    try {
      const padId = config.has('pad_token_id') ? config.integer('pad_token_id') : 0;
      const outputs = windowOutputs(model, dev, padId, o.batchSize);
      const { summary, answers } = evaluateQa(qaDev, dev, outputs);
      const files = writeQaPredictions(o.outFile, examples, answers, version === '2.0');
      log(`${examples.length} answers (${dev.examples.length} windows, SQuAD v${version}) written to ${files.join(' and ')}`);
      return { questions: examples.length, windows: dev.examples.length, version, metrics: labelled ? summary.metrics : null, loss: labelled ? summary.loss : null, files };
    } finally {
      injected.dispose();
    }
  } finally {
    model.dispose();
  }
}

/**
 * The SQuAD version to post-process with: as configured, else (auto) what the run detected
 * from its train and dev files when they are still there, else detected from the file scored.
 */
function squadVersion(o: PredictQaOptions, examples: readonly SquadExample[], log: (line: string) => void): '1.1' | '2.0' {
  const configured = o.data.qa!.squadVersion;
  if (configured !== 'auto') return configured;
  const runFiles = [o.data.train, o.data.dev].filter((f): f is string => f !== undefined && f !== null);
  if (o.data.train && runFiles.every((f) => existsSync(f))) {
    const version = detectSquadVersion(...runFiles.map((f) => readSquadFile(f, o.data)));
    log(`SQuAD v${version}, as the run detected it from ${runFiles.join(' and ')}`);
    return version;
  }
  const version = detectSquadVersion(examples);
  log(`SQuAD v${version}, detected from ${o.dataFile} (the run's files are not at hand: pass --squad-version to choose)`);
  return version;
}

/**
 * Whether the questions carry gold answers to score: in v2.0 always (no answer means
 * unanswerable); in v1.1 when every question has one, none when no question has one, and a
 * file with both is refused as training refuses it.
 */
function hasAnswers(file: string, examples: readonly SquadExample[], version: '1.1' | '2.0'): boolean {
  if (version === '2.0') return true;
  const without = examples.filter((e) => e.answers.text.length === 0);
  if (without.length === 0) return true;
  if (without.length === examples.length) return false;
  throw new Error(`${file}: question '${without[0].id}' has no answer but others have, which SQuAD v1.1 does not allow; pass --squad-version 2.0 if unanswerable questions are meant`);
}

/** The windows' start then end logits, row-major [windows, 2·maxLength], in data set order, `batchSize` windows per forward. */
function windowOutputs(model: QaModel, dev: Dataset, padId: number, batchSize: number): Float32Array {
  const rows = dev.examples.length;
  let outputs: Float32Array | null = null;
  for (let from = 0; from < rows; from += batchSize) {
    const inputs = toEncoderInputs(collate(dev.examples.slice(from, from + batchSize), { padId }));
    const logits = evalOutputs(model, inputs); // (B, 2·S)
    disposeEncoderInputs(inputs);
    const width = logits.shape[1];
    outputs ??= new Float32Array(rows * width);
    outputs.set(logits.dataSync(), from * width);
    logits.dispose();
  }
  return outputs ?? new Float32Array(0);
}

/**
 * Writes the answers where {@link qaOutputFiles} says: HF's predictions.json (`{id: answer
 * text}`, "" = no answer) and for v2 null_odds.json (`{id: null score − best span score}`), or
 * JSONL in file order, `{"index", "id", "prediction_text"}` and for v2 `"null_odds"`. A question
 * whose candidates are all empty spans has no score difference: its odds are null (HF would fail
 * there). Returns the files written.
 */
export function writeQaPredictions(outFile: string, examples: readonly SquadExample[], answers: QaPredictions, version2: boolean): string[] {
  mkdirSync(dirname(resolve(outFile)), { recursive: true });
  const text = (id: string) => answers.predictions.get(id) ?? '';
  const odds = (id: string) => answers.scoreDiff.get(id) ?? null;
  const files = qaOutputFiles(outFile);
  if (files.format === 'jsonl') {
    const lines = examples.map((e, index) => JSON.stringify({ index, id: e.id, prediction_text: text(e.id), ...(version2 && { null_odds: odds(e.id) }) }));
    writeFileSync(outFile, lines.length ? `${lines.join('\n')}\n` : '');
    return [outFile];
  }
  writeFileSync(outFile, `${JSON.stringify(Object.fromEntries(examples.map((e) => [e.id, text(e.id)])), null, 4)}\n`);
  if (!version2) return [outFile];
  writeFileSync(files.nullOdds!, `${JSON.stringify(Object.fromEntries(examples.map((e) => [e.id, odds(e.id)])), null, 4)}\n`);
  return [outFile, files.nullOdds!];
}
