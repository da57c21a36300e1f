import type { TrainableKey } from '@adalora/core';
import type { GradientSums } from '@adalora/training';
import type { ShareGradients } from './check-gradients';

/**
 * The running float64 sum of a step's gradient shares, added as they arrive. The shares are
 * float64 sums of float32 micro-batch gradients, which add exactly in practice, so the arrival
 * order gives the same bits as the micro-batch order (the worker-count identity test checks it)
 * while the coordinator sums during the wait for the slower shares instead of after the last.
 */
export class GradientAccumulator {
  private readonly sums = new Map<TrainableKey, Float64Array>();
  private count = 0;
  /** each share's loss sum by its first micro-batch: added in grid order at the end, as the losses need not add exactly */
  private readonly losses: [number, number][] = [];

  constructor(sizes: ReadonlyMap<TrainableKey, { readonly size: number }>) {
    for (const [key, v] of sizes) this.sums.set(key, new Float64Array(v.size));
  }

  /** Adds one checked share (its tensors match the trainables: see checkGradients); `place` is its first micro-batch. */
  add(share: ShareGradients, place: number): void {
    for (const [key, sum] of this.sums) {
      const g = share.grads.get(key);
      if (!g || g.length !== sum.length) throw new Error(`GradientAccumulator: share lacks '${key}' or has ${g?.length} values for ${sum.length}`);
      // one loop per element type: each stays monomorphic (a float64 share is the usual one)
      if (g instanceof Float64Array) addInto(sum, g);
      else addInto32(sum, g);
    }
    this.count += share.count;
    this.losses.push([place, share.lossSum]);
  }

  /** How many shares were added. */
  get added(): number {
    return this.losses.length;
  }

  /** The sum over every share added, as one share. */
  total(): GradientSums {
    const lossSum = [...this.losses].sort((a, b) => a[0] - b[0]).reduce((s, [, l]) => s + l, 0);
    return { count: this.count, lossSum, grads: this.sums };
  }
}

function addInto(sum: Float64Array, g: Float64Array): void {
  for (let i = 0; i < sum.length; i++) sum[i] += g[i];
}

function addInto32(sum: Float64Array, g: Float32Array): void {
  for (let i = 0; i < sum.length; i++) sum[i] += g[i];
}
