import * as tf from '@tensorflow/tfjs';
import type { ModuleId } from '@adalora/core';
import { adaptedLinear, frozenLinear, transposeWeight } from './adapted-linear-op';
import { dropout } from './ops';

/** What an adapter must offer a frozen linear layer: its branch's output for input x. */
export interface LinearAdapter {
  /** x [..., in] -> the adapter branch's [..., out] (already scaled). */
  delta(x: tf.Tensor, training: boolean): tf.Tensor;
  /**
   * Low-rank factors (SvdAdapter, LoraAdapter): when A, B and scaling are present the layer
   * runs its branch in {@link adaptedLinear}, whose own gradient avoids transposed matmuls;
   * E [r, 1] is AdaLoRA's (absent for LoRA); dropout is the branch input's rate.
   */
  readonly A?: tf.Tensor; // [r, in]
  readonly E?: tf.Tensor; // [r, 1]
  readonly B?: tf.Tensor; // [out, r]
  readonly scaling?: number;
  readonly dropout?: number;
}

/**
 * A frozen HF linear layer `y = x Wᵀ + b` (W [out, in], torch layout), addressed by
 * its module path; an adapter may be attached to add its low-rank branch.
 */
export class Linear {
  adapter: LinearAdapter | null = null;
  private w: tf.Tensor2D; // [out, in]
  private wT: tf.Tensor2D | null = null; // Wᵀ [in, out], made on first use

  constructor(
    readonly id: ModuleId,
    weight: tf.Tensor2D, // [out, in]
    readonly bias: tf.Tensor1D | null, // [out]
  ) {
    this.w = weight;
  }

  /** W [out, in], torch layout. */
  get weight(): tf.Tensor2D {
    return this.w;
  }

  /** Wᵀ [in, out], kept once per layer: wasm multiplies by a transposed operand many times slower. */
  get weightT(): tf.Tensor2D {
    this.wT ??= tf.keep(transposeWeight(this.w));
    return this.wT;
  }

  /** Replaces W (e.g. by a merged W + ΔW; same shape), freeing the old W and its transpose. */
  setWeight(weight: tf.Tensor2D): void {
    if (weight.rank !== 2 || weight.shape[0] !== this.outFeatures || weight.shape[1] !== this.inFeatures) {
      throw new Error(`Linear '${this.id}' setWeight: shape [${weight.shape}], expected [${this.outFeatures}, ${this.inFeatures}]`);
    }
    if (weight !== this.w) this.w.dispose();
    this.wT?.dispose();
    this.wT = null;
    this.w = weight;
  }

  get inFeatures(): number {
    return this.weight.shape[1];
  }

  get outFeatures(): number {
    return this.weight.shape[0];
  }

  apply(x: tf.Tensor, training = false): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = x.reshape([-1, this.inFeatures]) as tf.Tensor2D; // (N, in)
      const frozen = { weight: this.w, weightT: this.weightT, bias: this.bias };
      const a = this.adapter;
      let y: tf.Tensor; // (N, out)
      if (a === null) y = frozenLinear(x2, frozen);
      else if (a.A && a.B && a.scaling !== undefined) {
        const xd = dropout(x2, a.dropout ?? 0, training) as tf.Tensor2D; // x itself unless dropping
        const factors = { A: a.A as tf.Tensor2D, E: (a.E ?? null) as tf.Tensor2D | null, B: a.B as tf.Tensor2D, scaling: a.scaling };
        y = adaptedLinear(x2, frozen, factors, xd === x2 ? undefined : xd);
      } else y = frozenLinear(x2, frozen).add(a.delta(x2, training));
      return y.reshape([...lead, this.outFeatures]);
    });
  }

  dispose(): void {
    this.w.dispose();
    this.wT?.dispose();
    this.bias?.dispose();
  }
}
