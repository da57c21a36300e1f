import * as tf from '@tensorflow/tfjs';
import { seededDropout } from './dropout-stream';
import { addDeltaWeight } from './weight-delta';
import type { ModuleId } from './module-id';
import { adapterKey, type AdapterParam, type TrainableKey } from './trainable-key';

/** Shape and hyper-parameters of one adapted linear layer W [out, in]. */
export interface AdapterOptions {
  readonly id: ModuleId;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** initial rank r (AdaLoRA `init_r`, LoRA `r`) */
  readonly rank: number;
  readonly loraAlpha: number;
  /** dropout on the adapter branch's input while training; default 0 */
  readonly dropout?: number;
  /** seed of the random init; unseeded when absent */
  readonly seed?: number;
}

/** AdaLoRA options: `ranknum` is the rank the scaling divides by (default `rank`, i.e. init_r). */
export interface SvdAdapterOptions extends AdapterOptions {
  readonly ranknum?: number;
}

/** Values to load into a parameter: a tensor, or float32 data with its shape. */
export type ParamData = tf.Tensor | { readonly data: Float32Array; readonly shape: readonly number[] };

/** peft's parameter names of one AdaLoRA module. */
export type SvdParamName = AdapterParam;

export function checkOptions(who: string, o: AdapterOptions): void {
  for (const k of ['inFeatures', 'outFeatures', 'rank'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < (k === 'rank' ? 0 : 1)) throw new Error(`${who} '${o.id}': ${k} must be an integer >= ${k === 'rank' ? 0 : 1}, got ${o[k]}`);
  }
  if (!(o.loraAlpha > 0)) throw new Error(`${who} '${o.id}': loraAlpha must be > 0, got ${o.loraAlpha}`);
  const p = o.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new Error(`${who} '${o.id}': dropout must be in [0, 1), got ${p}`);
}

/** A tensor from ParamData, checked against the expected shape (the caller owns the result). */
export function paramTensor(who: string, name: string, d: ParamData, shape: readonly number[]): tf.Tensor {
  const got = d instanceof tf.Tensor ? d.shape : d.shape;
  if (got.length !== shape.length || got.some((n, i) => n !== shape[i])) {
    throw new Error(`${who}: ${name} has shape [${got.join(', ')}], expected [${shape.join(', ')}]`);
  }
  if (d instanceof tf.Tensor) return d.clone();
  if (d.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${who}: ${name} has ${d.data.length} values for shape [${shape.join(', ')}]`);
  return tf.tensor(d.data.slice(), [...shape], 'float32'); // a copy: the cpu backend would alias the array
}

/**
 * AdaLoRA's SVD-form adapter of one linear layer W [out, in] (peft `SVDLinear`):
 * ΔW = B · (A ⊙ E) · s with A [r, in] (right singular vectors), E [r, 1] (singular values),
 * B [out, r] (left singular vectors) and s = loraAlpha / (ranknum + 1e-5) in float32, where
 * ranknum stays init_r even after masking or resizing. Init: E = 0, A, B ~ N(0, 0.02²).
 */
export class SvdAdapter {
  readonly id: ModuleId;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly loraAlpha: number;
  readonly dropout: number;
  readonly ranknum: number;
  /** loraAlpha / (ranknum + 1e-5), each step rounded to float32 as torch does */
  readonly scaling: number;
  private a: tf.Variable; // [r, in]
  private e: tf.Variable; // [r, 1]
  private b: tf.Variable; // [out, r]

  constructor(opts: SvdAdapterOptions) {
    checkOptions('SvdAdapter', opts);
    this.id = opts.id;
    this.inFeatures = opts.inFeatures;
    this.outFeatures = opts.outFeatures;
    this.loraAlpha = opts.loraAlpha;
    this.dropout = opts.dropout ?? 0;
    this.ranknum = opts.ranknum ?? opts.rank;
    this.scaling = Math.fround(opts.loraAlpha / Math.fround(this.ranknum + Math.fround(1e-5)));
    const r = opts.rank;
    const seed = opts.seed;
    // tidy frees the initial values (a variable keeps its own reference to the data);
    // tfjs treats a seed of 0 as "no seed", so the seeds used are 2·seed + 1 and 2·seed + 2
    [this.a, this.e, this.b] = tf.tidy(() => [
      tf.variable(tf.randomNormal([r, this.inFeatures], 0, 0.02, 'float32', seed === undefined ? undefined : 2 * seed + 1)),
      tf.variable(tf.zeros([r, 1])),
      tf.variable(tf.randomNormal([this.outFeatures, r], 0, 0.02, 'float32', seed === undefined ? undefined : 2 * seed + 2)),
    ]);
  }

  /** right singular vectors [r, in] (peft `lora_A`); replaced by resize/load with a new rank */
  get A(): tf.Variable {
    return this.a;
  }

  /** singular values [r, 1] (peft `lora_E`) */
  get E(): tf.Variable {
    return this.e;
  }

  /** left singular vectors [out, r] (peft `lora_B`) */
  get B(): tf.Variable {
    return this.b;
  }

  /** current number of triplets */
  get rank(): number {
    return this.a.shape[0];
  }

  /** x [N, in] -> ((dropout(x) · (A ⊙ E)ᵀ) · Bᵀ) · s [N, out]; dropout only when training. */
  delta(x: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const n = x.shape[0];
      // the wasm matMul returns uninitialised memory for an empty inner dimension
      if (this.rank === 0) return tf.zeros([n, this.outFeatures]);
      const xd = training && this.dropout > 0 ? seededDropout(x, this.dropout) : x;
      // explicit transposes: wasm matMul with a transposed operand is ~12x slower
      const ae = this.a.mul(this.e).transpose(); // [in, r]
      const h = tf.matMul(xd as tf.Tensor2D, ae as tf.Tensor2D); // [N, r]
      return tf.matMul(h, this.b.transpose() as tf.Tensor2D).mul(this.scaling); // [N, out]
    });
  }

  /** ΔW = B · (A ⊙ E) · s, [out, in] (W's torch layout). */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      if (this.rank === 0) return tf.zeros([this.outFeatures, this.inFeatures]) as tf.Tensor2D;
      return tf.matMul(this.b as tf.Tensor2D, this.a.mul(this.e) as tf.Tensor2D).mul(this.scaling) as tf.Tensor2D;
    });
  }

  /** W + ΔW as a new tensor (W [out, in] is left as it is). */
  mergeInto(W: tf.Tensor2D): tf.Tensor2D {
    return addDeltaWeight(this, W, 1, 'SvdAdapter.mergeInto');
  }

  /** W − ΔW as a new tensor: undoes mergeInto while the adapter is unchanged. */
  unmergeFrom(W: tf.Tensor2D): tf.Tensor2D {
    return addDeltaWeight(this, W, -1, 'SvdAdapter.unmergeFrom');
  }

  /**
   * Keeps only the triplets marked true (peft's resize by rank pattern); k may be 0. The
   * scaling does not change. A, E, B become new variables: re-read `params()` afterwards.
   */
  resize(keep: readonly boolean[]): void {
    if (keep.length !== this.rank) throw new Error(`SvdAdapter '${this.id}': resize got ${keep.length} flags for rank ${this.rank}`);
    const idx = keep.flatMap((k, i) => (k ? [i] : []));
    const next = tf.tidy(() => {
      const ids = tf.tensor1d(idx, 'int32');
      return [tf.gather(this.a, ids, 0), tf.gather(this.e, ids, 0), tf.gather(this.b, ids, 1)];
    });
    this.replace(next[0], next[1], next[2]);
  }

  /** Loads A [k, in], E [k, 1], B [out, k] (any k, e.g. a saved adapter's kept rank). */
  load(values: { readonly A: ParamData; readonly E: ParamData; readonly B: ParamData }): void {
    const who = `SvdAdapter '${this.id}' load`;
    const k = (values.A instanceof tf.Tensor ? values.A.shape : values.A.shape)[0] ?? -1;
    const a = paramTensor(who, 'lora_A', values.A, [k, this.inFeatures]);
    let e: tf.Tensor | null = null;
    try {
      e = paramTensor(who, 'lora_E', values.E, [k, 1]);
      const b = paramTensor(who, 'lora_B', values.B, [this.outFeatures, k]);
      this.replace(a, e, b);
    } catch (err) {
      a.dispose();
      e?.dispose();
      throw err;
    }
  }

  /** The trainable variables by trainable key (`<id>.lora_A`, `.lora_E`, `.lora_B`). */
  params(): ReadonlyMap<TrainableKey, tf.Variable> {
    return new Map<TrainableKey, tf.Variable>([
      [adapterKey(this.id, 'lora_A'), this.a],
      [adapterKey(this.id, 'lora_E'), this.e],
      [adapterKey(this.id, 'lora_B'), this.b],
    ]);
  }

  dispose(): void {
    this.a.dispose();
    this.e.dispose();
    this.b.dispose();
  }

  // same rank: assign in place (variables, and whoever holds them, stay valid); else new variables
  private replace(a: tf.Tensor, e: tf.Tensor, b: tf.Tensor): void {
    if (a.shape[0] === this.rank) {
      this.a.assign(a);
      this.e.assign(e);
      this.b.assign(b);
    } else {
      this.dispose();
      this.a = tf.variable(a);
      this.e = tf.variable(e);
      this.b = tf.variable(b);
    }
    a.dispose();
    e.dispose();
    b.dispose();
  }
}
