import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type DataConfig } from '@adalora/config';
import { summarizeEval } from '@adalora/coordinator';
import { argmaxRows, collate, type Dataset } from '@adalora/data';
import { loadBaseForAdapter, loadEncoder, loadPeftAdapter, type EncoderModel } from '@adalora/models';
import { disposeEncoderInputs, toEncoderInputs } from '@adalora/training';
import { readPredictData } from './predict-data';

export interface PredictOptions {
  readonly baseDir: string;
  readonly adapterDir: string;
  readonly dataFile: string;
  readonly outFile: string;
  /** How to read the data file (format, columns, max length, task). */
  readonly data: DataConfig;
  /** Where the tokenizer is (text data); default the base folder. */
  readonly tokenizerDir?: string;
  /** Examples per forward pass. */
  readonly batchSize: number;
}

/** What {@link predictCommand} found. */
export interface PredictResult {
  readonly examples: number;
  /** With labels: the task's metrics and the mean loss (cross-entropy, or squared error for regression). */
  readonly metrics: Readonly<Record<string, number>> | null;
  readonly loss: number | null;
}

/**
 * Scores a data file with a base model and an adapter, in this process on the loaded backend:
 * writes one JSON line per example (index, source line, predicted label and class id with the
 * class probabilities, or the predicted value for regression), and with labels computes the
 * metrics the coordinator's dev evaluation reports. An adapter recorded as trained on another
 * base is refused.
 */
export async function predictCommand(o: PredictOptions, log: (line: string) => void): Promise<PredictResult> {
  const { model, config, recorded: base } = await loadBaseForAdapter(o.baseDir, o.adapterDir, (recorded) => loadEncoder(o.baseDir, recorded ? { numLabels: recorded.numLabels } : {}), log);
  try {
    const regression = o.data.task === 'regression';
    if (regression !== (model.numLabels === 1)) {
      throw new Error(`data.task is ${o.data.task} but the adapter's head has ${model.numLabels} output(s)`);
    }
    const data = readPredictData(o.dataFile, { data: o.data, numLabels: model.numLabels, labels: base?.labels ?? null, tokenizerDir: o.tokenizerDir ?? o.baseDir });
    const { injected } = await loadPeftAdapter(o.adapterDir, model);
    try {
      const padId = config.has('pad_token_id') ? config.integer('pad_token_id') : 0;
      const outputs = modelOutputs(model, data.dataset, padId, o.batchSize);
      writePredictions(o.outFile, data.dataset, outputs, model.numLabels, base?.labels ?? null);
      log(`${data.dataset.examples.length} predictions written to ${o.outFile}`);
      if (!data.labelled) return { examples: data.dataset.examples.length, metrics: null, loss: null };
      // the coordinator's dev evaluation itself: the same metrics and loss for the same outputs
      const { metrics, loss, samples } = summarizeEval(data.dataset, outputs);
      return { examples: samples, metrics, loss };
    } finally {
      injected.dispose();
    }
  } finally {
    model.dispose();
  }
}

/** Model outputs, row-major [n, numLabels], in data set order: batches of `batchSize` padded to their longest row. */
function modelOutputs(model: EncoderModel, dataset: Dataset, padId: number, batchSize: number): Float32Array {
  const n = dataset.examples.length;
  const k = model.numLabels;
  const outputs = new Float32Array(n * k);
  for (let from = 0; from < n; from += batchSize) {
    const batch = collate(dataset.examples.slice(from, from + batchSize), { padId, regression: k === 1 });
    const inputs = toEncoderInputs(batch);
    const logits = tf.tidy(() => model.forward(inputs, false).logits);
    disposeEncoderInputs(inputs);
    outputs.set(logits.dataSync(), from * k);
    logits.dispose();
  }
  return outputs;
}

/** One JSON line per example: index, source line, and the prediction with the class probabilities. */
function writePredictions(file: string, dataset: Dataset, outputs: Float32Array, k: number, names: readonly string[] | null): void {
  // the class the metrics count as predicted (first of tied maxima)
  const predicted = k === 1 ? null : argmaxRows(outputs, k);
  const lines = dataset.examples.map((_, i) => {
    const where = { index: i, ...(dataset.lines && { line: dataset.lines[i] }) };
    if (k === 1) return JSON.stringify({ ...where, value: outputs[i] });
    const row = outputs.subarray(i * k, (i + 1) * k);
    const max = Math.max(...row);
    const exp = Array.from(row, (v) => Math.exp(v - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    const best = predicted![i];
    return JSON.stringify({ ...where, label: names?.[best] ?? String(best), label_id: best, scores: exp.map((e) => e / sum) });
  });
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, lines.length ? `${lines.join('\n')}\n` : '');
}
