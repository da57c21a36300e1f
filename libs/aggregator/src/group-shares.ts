import { rowsOfUnits } from '@adalora/coordinator';
import type { TrainableKey } from '@adalora/core';
import { encodeSamples, type ComputeMessage, type EvaluateMessage, type SampleBatch } from '@adalora/protocol';
import { gatherRows, type GradientSums } from '@adalora/training';

/**
 * How an aggregator cuts one request of its coordinator into requests for its own workers, and
 * puts their replies back together. Pure: the covering loop (coverUnits) decides who computes
 * which share; these only say what a share is.
 *
 * A share is a list of unit positions within the request: for `compute` the positions of its
 * micro-batches (`msg.microBatches[p]` is the micro-batch's index on the step's grid), for
 * `evaluate` its rows cut into runs of `microBatch` rows, as a worker evaluates them. Every row
 * thus goes through the same micro-batch on a group worker as it would on a lone worker.
 */

/** A decoded request batch with the data set row ids of its rows. */
export type IdentifiedBatch = SampleBatch & { readonly sampleIds: readonly number[] };

/** The rows of `batch` in `share` (unit positions of `microBatch` rows), as a batch with their ids. */
export function shareSamples(batch: IdentifiedBatch, microBatch: number, share: readonly number[]): { readonly rows: readonly number[]; readonly part: SampleBatch; readonly sampleIds: readonly number[] } {
  const rows = rowsOfUnits(share, microBatch, batch.rows);
  return { rows, part: gatherRows(batch, rows), sampleIds: rows.map((r) => batch.sampleIds[r]) };
}

/** The `compute` for one share of a coordinator's `compute` (same step and seed, the share's grid micro-batches). */
export function shareCompute(msg: ComputeMessage, batch: IdentifiedBatch, microBatch: number, share: readonly number[], requestId: number): ComputeMessage {
  const { part, sampleIds } = shareSamples(batch, microBatch, share);
  return { type: 'compute', runId: msg.runId, step: msg.step, requestId, seed: msg.seed, microBatches: share.map((p) => msg.microBatches[p]), samples: encodeSamples(sampleIds, part) };
}

/** The `evaluate` for one share of a coordinator's `evaluate`. */
export function shareEvaluate(msg: EvaluateMessage, batch: IdentifiedBatch, microBatch: number, share: readonly number[], requestId: number): EvaluateMessage {
  const { part, sampleIds } = shareSamples(batch, microBatch, share);
  return { type: 'evaluate', runId: msg.runId, requestId, samples: encodeSamples(sampleIds, part) };
}

/**
 * The sum of the shares' gradient sums, added in float64 in the order given (the shares' order
 * on the grid): the float32 gradients of single micro-batches add up exactly in float64 in
 * practice, so this grouping gives the bits a lone worker's sum over all of them gives.
 */
export function sumShares(shares: readonly GradientSums[]): GradientSums {
  if (shares.length === 0) throw new Error('sumShares: no share to sum');
  const grads = new Map<TrainableKey, Float64Array>();
  for (const [key, first] of shares[0].grads) {
    const sum = Float64Array.from(first);
    for (const share of shares.slice(1)) {
      const g = share.grads.get(key);
      if (!g || g.length !== sum.length) throw new Error(`sumShares: tensor '${key}' is missing from a share or has another size`);
      for (let i = 0; i < sum.length; i++) sum[i] += g[i];
    }
    grads.set(key, sum);
  }
  return { count: shares.reduce((n, s) => n + s.count, 0), lossSum: shares.reduce((s, x) => s + x.lossSum, 0), grads };
}

/** The shares' evaluation outputs ([rows, numLabels] each, in share order) as one [n, numLabels] block. */
export function joinOutputs(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
