import * as tf from '@tensorflow/tfjs';
import type { ModuleId } from './module-id';

/** An adapter as merging sees it: the layer it belongs to and its ΔW. */
export interface DeltaWeightSource {
  readonly id: ModuleId;
  readonly inFeatures: number;
  readonly outFeatures: number;
  deltaWeight(): tf.Tensor2D; // [out, in]
}

/**
 * W + sign·ΔW as a new tensor (W [out, in] is left as it is): merge with sign 1, unmerge with −1.
 * `who` names the adapter and the operation in the shape error.
 */
export function addDeltaWeight(adapter: DeltaWeightSource, W: tf.Tensor2D, sign: 1 | -1, who: string): tf.Tensor2D {
  if (W.rank !== 2 || W.shape[0] !== adapter.outFeatures || W.shape[1] !== adapter.inFeatures) {
    throw new Error(`${who} '${adapter.id}': W has shape [${W.shape.join(', ')}], expected [${adapter.outFeatures}, ${adapter.inFeatures}]`);
  }
  return tf.tidy(() => (sign > 0 ? W.add(adapter.deltaWeight()) : W.sub(adapter.deltaWeight())));
}
