import { checkTensorSet, type TrainableKey } from '@adalora/core';
import { float64FromTensor, type GradientsMessage } from '@adalora/protocol';
import type { GradientSums } from '@adalora/training';

/** The trainables' shapes by key, as a gradient reply must match them. */
export type TrainableShapes = ReadonlyMap<TrainableKey, { readonly shape: readonly number[] }>;

/** A gradient reply must cover exactly the trainables, with their shapes, for the rows sent. */
export function checkGradients(label: string, trainables: TrainableShapes, m: GradientsMessage, rows: number): GradientSums & { computeMs: number } {
  if (m.sampleCount !== rows) throw new Error(`${label}: gradients over ${m.sampleCount} samples, ${rows} were sent`);
  const tensors = checkTensorSet(trainables, m.tensors, `${label} gradients`);
  const grads = new Map([...tensors].map(([key, t]) => [key, float64FromTensor(t)]));
  return { count: m.sampleCount, lossSum: m.lossSum, grads, computeMs: m.computeMs };
}
