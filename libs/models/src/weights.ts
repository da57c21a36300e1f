import * as tf from '@tensorflow/tfjs';
import { mulberry32, normalSampler, uniformOpen01 } from '@adalora/core';
import type { SafeTensor } from './safetensors';

/** How a weight the checkpoint lacks is created, as HF `_init_weights` does for new modules. */
export type WeightInit = { readonly kind: 'normal'; readonly std: number } | { readonly kind: 'zeros' };

/** Options of a {@link WeightStore}. */
export interface WeightStoreOptions {
  /**
   * Seed for weights that a model may create when the checkpoint lacks them (a new
   * classification head on a pretrained base checkpoint, as HF does with a warning).
   * Without it such a weight is an error. Values depend only on (seed, name), never on order,
   * so every worker of a run that uses the same seed builds the same head.
   */
  readonly initSeed?: number;
  /**
   * A head weight ({@link WeightStore.takeOrInit}) whose stored shape differs from the model's
   * (a checkpoint fine-tuned for another label count) is created anew, as HF's
   * `ignore_mismatched_sizes`, and listed in {@link WeightStore.mismatched}; needs `initSeed`.
   * Without it such a weight is an error naming both shapes.
   */
  readonly reinitMismatched?: boolean;
}

/** A head weight created anew because the checkpoint's had another shape. */
export interface MismatchedWeight {
  readonly name: string;
  readonly stored: readonly number[];
  readonly created: readonly number[];
}

/**
 * The frozen weights of a checkpoint, handed out by HF name with a shape check,
 * so a missing or mis-shaped weight fails with a message that names it.
 * Legacy names are accepted as transformers accepts them: `LayerNorm.gamma|beta` for
 * `LayerNorm.weight|bias`.
 */
export class WeightStore {
  private readonly used = new Set<string>();
  private readonly created = new Set<string>();
  private readonly replaced: MismatchedWeight[] = [];

  constructor(
    private readonly tensors: ReadonlyMap<string, SafeTensor>,
    private readonly source: string,
    private readonly options: WeightStoreOptions = {},
  ) {}

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  /** The tensor `name` as a fresh tf tensor (the caller owns it); `shape` is checked when given. */
  take(name: string, shape?: readonly number[]): tf.Tensor {
    const stored = this.resolve(name);
    if (stored === undefined) throw new Error(`${this.source}: missing weight '${name}'`);
    return this.materialise(name, stored, shape);
  }

  /**
   * Like {@link take}, but when the checkpoint lacks `name` and the store has an `initSeed`,
   * creates it with `init` (recorded in {@link initialised}); without a seed it is an error
   * that says how to allow it.
   */
  takeOrInit(name: string, shape: readonly number[], init: WeightInit): tf.Tensor {
    const stored = this.resolve(name);
    if (stored !== undefined && sameShape(stored.t.shape, shape)) return this.materialise(name, stored, shape);
    if (stored !== undefined) {
      if (!this.options.reinitMismatched || this.options.initSeed === undefined) {
        throw new Error(
          `${this.source}: head weight '${name}' has shape [${stored.t.shape}], the model needs [${shape}] ` +
            `(the checkpoint's head was made for another label count; reinitHead: true starts a new head, as HF's ignore_mismatched_sizes)`,
        );
      }
      this.used.add(stored.key); // read and replaced, not ignored
      this.replaced.push({ name, stored: [...stored.t.shape], created: [...shape] });
    } else if (this.options.initSeed === undefined) {
      throw new Error(`${this.source}: missing weight '${name}' (a checkpoint without a classification head needs an init seed to create one)`);
    }
    this.created.add(name);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = init.kind === 'zeros' ? new Float32Array(count) : normals(count, init.std, seedFor(this.options.initSeed, name));
    return tf.tensor(data, [...shape], 'float32');
  }

  /** Names never taken: tells which checkpoint weights a model ignored. */
  unused(): string[] {
    return [...this.tensors.keys()].filter((n) => !this.used.has(n));
  }

  /** Head weights created anew because the checkpoint's had another shape (`reinitMismatched`). */
  mismatched(): MismatchedWeight[] {
    return [...this.replaced];
  }

  /** Names the model created because the checkpoint lacked them (or, with `reinitMismatched`, had them in another shape). */
  initialised(): string[] {
    return [...this.created];
  }

  private resolve(name: string): { key: string; t: SafeTensor } | undefined {
    for (const key of [name, legacyName(name)]) {
      const t = key === undefined ? undefined : this.tensors.get(key);
      if (t) return { key: key!, t };
    }
    return undefined;
  }

  private materialise(name: string, { key, t }: { key: string; t: SafeTensor }, shape?: readonly number[]): tf.Tensor {
    if (shape && !sameShape(t.shape, shape)) {
      throw new Error(`${this.source}: weight '${name}' has shape [${t.shape}], expected [${shape}]`);
    }
    this.used.add(key);
    return tf.tensor(t.data, [...t.shape], 'float32');
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

// transformers renames these TF-era LayerNorm names on load.
function legacyName(name: string): string | undefined {
  if (name.endsWith('LayerNorm.weight')) return `${name.slice(0, -'weight'.length)}gamma`;
  if (name.endsWith('LayerNorm.bias')) return `${name.slice(0, -'bias'.length)}beta`;
  return undefined;
}

// 32-bit FNV-1a of the name mixed with the seed: one independent stream per weight.
function seedFor(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// N(0, std²) samples from the workspace PRNG: deterministic in plain JS on every backend. Both
// halves of each Box–Muller pair, from uniforms in (0, 1): the draw a seed has always made, so a
// reproduced run (or one resumed from an older checkpoint) builds the same head.
function normals(count: number, std: number, seed: number): Float32Array {
  const normal = normalSampler(uniformOpen01(mulberry32(seed)), { std, useSine: true });
  return Float32Array.from({ length: count }, normal);
}
