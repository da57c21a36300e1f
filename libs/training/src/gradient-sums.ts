import * as tf from '@tensorflow/tfjs';
import { DropoutStream, withDropoutStream, type TrainableKey } from '@adalora/core';
import type { TaskModel } from '@adalora/models';
import type { SampleBatch } from '@adalora/protocol';
import { disposeEncoderInputs, sliceRows, toEncoderInputs } from './sample-rows';
import { taskLabelTensors, taskLossSum } from './task-loss';

/** A worker's share of one optimizer step: sums over its samples, so shares of any size add up. */
export interface GradientSums {
  readonly count: number;
  readonly lossSum: number;
  /**
   * Σ over samples of ∂(task loss)/∂θ for every trainable tensor, by trainable key. Each
   * micro-batch's float32 gradient is added in float64, which is exact in practice: so partial
   * sums over any split of a batch into whole micro-batches add up to the same bits.
   */
  readonly grads: ReadonlyMap<TrainableKey, Float64Array>;
}

/**
 * Where a share sits on its step's micro-batch grid, as the `compute` message says: what seeds
 * its dropout, so that each micro-batch draws the same masks whoever computes it.
 */
export interface SharePlace {
  /** the run's seed (training.seed) */
  readonly seed: number;
  /** the optimizer step */
  readonly step: number;
  /** the grid index of each of the share's micro-batches, in row order */
  readonly microBatches: readonly number[];
}

/**
 * Task-loss gradient sums of `trainables` over `batch` (a classifier's loss, or extractive QA's
 * for a QA model and answer-span labels), micro-batch by micro-batch so that
 * memory stays bounded whatever the share. Micro-batches start at row 0 of `batch`, so a share
 * that starts on the global batch's micro-batch grid computes exactly the grid's micro-batches.
 * Every dropout of a micro-batch's forward pass is seeded from (seed, step, its grid index).
 * The orthogonal regulariser is not included: it depends on the weights alone, so the
 * coordinator adds it once for the global step.
 */
export function computeGradientSums(
  model: TaskModel,
  trainables: ReadonlyMap<TrainableKey, tf.Variable>,
  batch: SampleBatch,
  microBatch: number,
  place: SharePlace,
): GradientSums {
  const parts = Math.ceil(batch.rows / microBatch);
  if (place.microBatches.length !== parts) {
    throw new Error(`computeGradientSums: ${batch.rows} rows make ${parts} micro-batch(es) of ${microBatch}, but ${place.microBatches.length} grid index(es) were given`);
  }
  const names = [...trainables.keys()];
  const vars = names.map((n) => trainables.get(n)!);
  const sums = vars.map((v) => new Float64Array(v.size));
  let lossSum = 0;
  for (let from = 0; from < batch.rows; from += microBatch) {
    const part = sliceRows(batch, from, Math.min(batch.rows, from + microBatch));
    const inputs = toEncoderInputs(part);
    const labels = taskLabelTensors(model, part.labels, part.rows);
    try {
      const dropout = DropoutStream.forMicroBatch(place.seed, place.step, place.microBatches[from / microBatch]);
      const { value, grads } = withDropoutStream(dropout, () => tf.variableGrads(() => taskLossSum(model, inputs, labels, true), vars));
      lossSum += value.dataSync()[0];
      value.dispose();
      vars.forEach((v, i) => {
        const g = grads[v.name];
        if (!g) return; // a tensor the loss does not reach has gradient 0
        const values = g.dataSync();
        const sum = sums[i];
        for (let j = 0; j < sum.length; j++) sum[j] += values[j];
        g.dispose();
      });
    } finally {
      disposeEncoderInputs(inputs);
      tf.dispose(labels);
    }
  }
  return { count: batch.rows, lossSum, grads: new Map(names.map((n, i) => [n, sums[i]])) };
}
