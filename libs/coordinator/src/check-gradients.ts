import { float64FromTensor, type GradientsMessage } from '@adalora/protocol';
import type { GradientSums } from '@adalora/training';

/** The trainables' shapes by name, as a gradient reply must match them. */
export type TrainableShapes = ReadonlyMap<string, { readonly shape: readonly number[] }>;

/** A gradient reply must cover exactly the trainables, with their shapes, for the rows sent. */
export function checkGradients(label: string, trainables: TrainableShapes, m: GradientsMessage, rows: number): GradientSums & { computeMs: number } {
  if (m.sampleCount !== rows) throw new Error(`${label}: gradients over ${m.sampleCount} samples, ${rows} were sent`);
  const grads = new Map<string, Float64Array>();
  for (const t of m.tensors) {
    const v = trainables.get(t.name);
    if (!v) throw new Error(`${label}: gradient for unknown tensor '${t.name}'`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) throw new Error(`${label}: gradient '${t.name}' has shape [${t.shape}], expected [${v.shape}]`);
    grads.set(t.name, float64FromTensor(t));
  }
  if (grads.size !== trainables.size) throw new Error(`${label}: ${grads.size} gradients, expected ${trainables.size}`);
  return { count: m.sampleCount, lossSum: m.lossSum, grads, computeMs: m.computeMs };
}
