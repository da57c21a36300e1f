import { checkTensorSet, type TrainableKey } from '@adalora/core';
import { float64FromTensor, type GradientsMessage, type WireTensor } from '@adalora/protocol';

/** The trainables' shapes by key, as a gradient reply must match them. */
export type TrainableShapes = ReadonlyMap<TrainableKey, { readonly shape: readonly number[] }>;

/**
 * One worker's checked gradient reply: sums over its samples by trainable key, as received (the
 * wire tensors, views on the reply's memory: read them with `sumOfSquares` / `addInto`, which
 * take them at any byte offset without a copy), and its compute time.
 */
export interface ShareGradients {
  readonly count: number;
  readonly lossSum: number;
  readonly tensors: ReadonlyMap<TrainableKey, WireTensor>;
  readonly computeMs: number;
}

/** A gradient reply must cover exactly the trainables, with their shapes, for the rows sent. */
export function checkGradients(label: string, trainables: TrainableShapes, m: GradientsMessage, rows: number): ShareGradients {
  if (m.sampleCount !== rows) throw new Error(`${label}: gradients over ${m.sampleCount} samples, ${rows} were sent`);
  const tensors = checkTensorSet(trainables, m.tensors, `${label} gradients`);
  return { count: m.sampleCount, lossSum: m.lossSum, tensors, computeMs: m.computeMs };
}

/** A share's values copied into float64 arrays (for a holder that keeps them past the reply). */
export function float64Share(share: ShareGradients): { count: number; lossSum: number; grads: Map<TrainableKey, Float64Array> } {
  return { count: share.count, lossSum: share.lossSum, grads: new Map([...share.tensors].map(([key, t]) => [key, float64FromTensor(t)])) };
}
