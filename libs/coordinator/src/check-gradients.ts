import { checkTensorSet, type TrainableKey } from '@adalora/core';
import { floatValuesOf, type GradientsMessage } from '@adalora/protocol';

/** The trainables' shapes by key, as a gradient reply must match them. */
export type TrainableShapes = ReadonlyMap<TrainableKey, { readonly shape: readonly number[] }>;

/**
 * One worker's checked gradient reply: sums over its samples by trainable key, as read off the
 * wire (views on the received frame where aligned, see floatValuesOf), and its compute time.
 */
export interface ShareGradients {
  readonly count: number;
  readonly lossSum: number;
  readonly grads: ReadonlyMap<TrainableKey, Float64Array | Float32Array>;
  readonly computeMs: number;
}

/** A gradient reply must cover exactly the trainables, with their shapes, for the rows sent. */
export function checkGradients(label: string, trainables: TrainableShapes, m: GradientsMessage, rows: number): ShareGradients {
  if (m.sampleCount !== rows) throw new Error(`${label}: gradients over ${m.sampleCount} samples, ${rows} were sent`);
  const tensors = checkTensorSet(trainables, m.tensors, `${label} gradients`);
  const grads = new Map([...tensors].map(([key, t]) => [key, floatValuesOf(t)]));
  return { count: m.sampleCount, lossSum: m.lossSum, grads, computeMs: m.computeMs };
}
