import * as tf from '@tensorflow/tfjs';
import { seededDropout } from './dropout-stream';
import { addDeltaWeight } from './weight-delta';
import type { ModuleId } from './module-id';
import { adapterKey, type AdapterParam, type TrainableKey } from './trainable-key';
import { checkOptions, paramTensor, type AdapterOptions, type ParamData } from './svd-adapter';

/** peft's parameter names of one LoRA module. */
export type LoraParamName = Exclude<AdapterParam, 'lora_E'>;

/**
 * Plain LoRA of one linear layer W [out, in] (peft `lora.Linear`), to compare AdaLoRA with
 * LoRA at the same budget: ΔW = B · A · s with A [r, in] ~ kaiming_uniform(a = √5), i.e.
 * U(−1/√in, 1/√in), B [out, r] = 0 and s = loraAlpha / r.
 */
export class LoraAdapter {
  readonly id: ModuleId;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly loraAlpha: number;
  readonly dropout: number;
  /** loraAlpha / r (float32) */
  readonly scaling: number;
  readonly A: tf.Variable; // [r, in]
  readonly B: tf.Variable; // [out, r]

  constructor(opts: AdapterOptions) {
    checkOptions('LoraAdapter', opts);
    if (opts.rank === 0) throw new Error(`LoraAdapter '${opts.id}': rank must be >= 1`);
    this.id = opts.id;
    this.inFeatures = opts.inFeatures;
    this.outFeatures = opts.outFeatures;
    this.loraAlpha = opts.loraAlpha;
    this.dropout = opts.dropout ?? 0;
    this.scaling = Math.fround(opts.loraAlpha / opts.rank);
    // kaiming_uniform_(a=√5): gain √(2/(1+5)), bound = gain·√(3/fan_in) = 1/√in
    const bound = 1 / Math.sqrt(this.inFeatures);
    [this.A, this.B] = tf.tidy(() => [
      // tfjs treats a seed of 0 as "no seed": shift by one
      tf.variable(tf.randomUniform([opts.rank, this.inFeatures], -bound, bound, 'float32', opts.seed === undefined ? undefined : opts.seed + 1)),
      tf.variable(tf.zeros([this.outFeatures, opts.rank])),
    ]);
  }

  get rank(): number {
    return this.A.shape[0];
  }

  /** x [N, in] -> ((dropout(x) · Aᵀ) · Bᵀ) · s [N, out]; dropout only when training. */
  delta(x: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const xd = training && this.dropout > 0 ? seededDropout(x, this.dropout) : x;
      const h = tf.matMul(xd as tf.Tensor2D, this.A.transpose() as tf.Tensor2D); // [N, r]
      return tf.matMul(h, this.B.transpose() as tf.Tensor2D).mul(this.scaling); // [N, out]
    });
  }

  /** ΔW = B · A · s, [out, in]. */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(this.B as tf.Tensor2D, this.A as tf.Tensor2D).mul(this.scaling) as tf.Tensor2D);
  }

  /** W + ΔW as a new tensor. */
  mergeInto(W: tf.Tensor2D): tf.Tensor2D {
    return addDeltaWeight(this, W, 1, 'LoraAdapter.mergeInto');
  }

  /** W − ΔW as a new tensor. */
  unmergeFrom(W: tf.Tensor2D): tf.Tensor2D {
    return addDeltaWeight(this, W, -1, 'LoraAdapter.unmergeFrom');
  }

  /** Loads A [r, in] and B [out, r] (same r). */
  load(values: { readonly A: ParamData; readonly B: ParamData }): void {
    const who = `LoraAdapter '${this.id}' load`;
    tf.tidy(() => {
      const a = paramTensor(who, 'lora_A', values.A, [this.rank, this.inFeatures]);
      const b = paramTensor(who, 'lora_B', values.B, [this.outFeatures, this.rank]);
      this.A.assign(a);
      this.B.assign(b);
    });
  }

  /** The trainable variables by trainable key (`<id>.lora_A`, `.lora_B`). */
  params(): ReadonlyMap<TrainableKey, tf.Variable> {
    return new Map<TrainableKey, tf.Variable>([
      [adapterKey(this.id, 'lora_A'), this.A],
      [adapterKey(this.id, 'lora_B'), this.B],
    ]);
  }

  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }
}
