import type { FloatWire, NamedTensor } from '@adalora/protocol';
import { tensorFromFloat64 } from '@adalora/protocol';

/** A trainable as the `state` message names and shapes it. */
export interface TensorShape {
  readonly name: string;
  readonly shape: readonly number[];
}

/** 32-bit mixing (splitmix-style): a well-spread hash of a few integers. */
export function mix32(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * The weight of one micro-batch's synthetic gradient, from (seed, step, its grid index): an
 * integer 1…4 per row, so a micro-batch of `rows` rows weighs rows × (1…4).
 */
export function microBatchWeight(seed: number, step: number, microBatch: number): number {
  return 1 + (mix32(seed, step, microBatch) & 3);
}

/**
 * Deterministic stand-in gradients for a run's trainables, without a model: micro-batch m of
 * step s (seed σ) over r rows contributes r · w(σ, s, m) · base, where `base` holds, per tensor,
 * small multiples of 2⁻²⁰ drawn from (σ, the tensor's name). Every value is an integer times
 * 2⁻²⁰ well under 2²⁴ of them, so float32 and float64 hold the sums exactly and shares add up to
 * the same bits in any grouping, as real float64 shares do. A share's sum is one scalar times
 * `base`, so the encoded tensors of a scalar are kept (a few) and shared by every connection of
 * the process: synthetic workers cost the machine little beside the coordinator they measure.
 */
export class SyntheticGradients {
  private readonly base: Float64Array[];
  private readonly cache = new Map<string, NamedTensor[]>();

  constructor(
    readonly shapes: readonly TensorShape[],
    private readonly seed: number,
    private readonly wire: FloatWire,
  ) {
    this.base = shapes.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const out = new Float64Array(n);
      let h = mix32(seed, ...[...t.name].map((c) => c.charCodeAt(0)));
      for (let i = 0; i < n; i++) {
        // xorshift32: cheap and seeded; values k · 2⁻²⁰ with k in −512 … 511
        h ^= h << 13;
        h ^= h >>> 17;
        h ^= h << 5;
        out[i] = (((h >>> 0) & 1023) - 512) * 2 ** -20;
      }
      return out;
    });
  }

  /** The scalar a share's sum is `base` times: Σ over its micro-batches of rows × weight. */
  shareScale(step: number, microBatches: readonly number[], rowsOf: (index: number) => number): number {
    return microBatches.reduce((s, m, i) => s + rowsOf(i) * microBatchWeight(this.seed, step, m), 0);
  }

  /**
   * The share's gradient sums as wire tensors (the run's names, shapes and wire dtype). A real
   * share of one micro-batch is float32 numbers (a float64 wire sends it as float32), one of
   * several is a float64 sum that float32 does not hold: `microBatches` makes these the same.
   */
  tensors(scale: number, microBatches: number): NamedTensor[] {
    const exact = microBatches > 1 ? 'float64' : 'narrowest';
    const key = `${scale} ${exact}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.shapes.map((t, i) => tensorFromFloat64(t.name, t.shape, this.base[i].map((v) => v * scale), this.wire, exact));
      if (this.cache.size >= 8) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, hit);
    }
    return hit;
  }
}
