import * as tf from '@tensorflow/tfjs';
import type { ModuleId } from '@adalora/core';

/** What an adapter must offer a frozen linear layer: its branch's output for input x. */
export interface LinearAdapter {
  /** x [..., in] -> the adapter branch's [..., out] (already scaled). */
  delta(x: tf.Tensor, training: boolean): tf.Tensor;
}

/**
 * A frozen HF linear layer `y = x Wᵀ + b` (W [out, in], torch layout), addressed by
 * its module path; an adapter may be attached to add its low-rank branch.
 */
export class Linear {
  adapter: LinearAdapter | null = null;

  constructor(
    readonly id: ModuleId,
    readonly weight: tf.Tensor2D, // [out, in]
    readonly bias: tf.Tensor1D | null, // [out]
  ) {}

  get inFeatures(): number {
    return this.weight.shape[1];
  }

  get outFeatures(): number {
    return this.weight.shape[0];
  }

  apply(x: tf.Tensor, training = false): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = x.reshape([-1, this.inFeatures]); // (N, in)
      let y = tf.matMul(x2, this.weight, false, true); // (N, out)
      if (this.bias) y = y.add(this.bias);
      if (this.adapter) y = y.add(this.adapter.delta(x2, training));
      return y.reshape([...lead, this.outFeatures]);
    });
  }

  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}
