import type { TrainableKey } from '@adalora/core';
import { addInto, squaresOf } from '@adalora/protocol';
import type { GradientSums } from '@adalora/training';
import type { ShareGradients } from './check-gradients';

/**
 * The running float64 sum of a step's gradient shares, added as they arrive. The shares are
 * float64 sums of float32 micro-batch gradients, which add exactly in practice, so the arrival
 * order gives the same bits as the micro-batch order (the worker-count identity test checks it)
 * while the coordinator sums during the wait for the slower shares instead of after the last.
 *
 * A share is judged on its norm before it is added; the norm costs no read of its own, as the
 * receiving guard took each tensor's Σ x² while checking its values (see squaresOf).
 */
export class GradientAccumulator {
  private readonly sums = new Map<TrainableKey, Float64Array>();
  private count = 0;
  /** each share's loss sum by its first micro-batch: added in grid order at the end, as the losses need not add exactly */
  private readonly losses: [number, number][] = [];

  constructor(sizes: ReadonlyMap<TrainableKey, { readonly size: number }>) {
    for (const [key, v] of sizes) this.sums.set(key, new Float64Array(v.size));
  }

  /**
   * Adds one checked share (its tensors match the trainables: see checkGradients; `place` is its
   * first micro-batch) unless `judge` refuses its per-sample norm (‖Σ gradients‖₂ / samples,
   * NaN or ∞ when a value is not finite): then the sum is unchanged and judge's reason returned.
   */
  add(share: ShareGradients, place: number, judge: (perSampleNorm: number) => string | null = () => null): string | null {
    let squares = 0;
    for (const key of this.sums.keys()) {
      const t = share.tensors.get(key);
      if (!t) throw new Error(`GradientAccumulator: share lacks '${key}'`);
      squares += squaresOf(t);
    }
    const refused = judge(Math.sqrt(squares) / Math.max(1, share.count));
    if (refused !== null) return refused;
    for (const [key, sum] of this.sums) addInto(sum, share.tensors.get(key)!); // straight off the received bytes
    this.count += share.count;
    this.losses.push([place, share.lossSum]);
    return null;
  }

  /** Empties the sum for another step (its memory is kept); returns this. */
  reset(): this {
    for (const sum of this.sums.values()) sum.fill(0);
    this.count = 0;
    this.losses.length = 0;
    return this;
  }

  /** How many shares were added. */
  get added(): number {
    return this.losses.length;
  }

  /** The sum over every share added, as one share (its arrays are this accumulator's: read them before reset). */
  total(): GradientSums {
    const lossSum = [...this.losses].sort((a, b) => a[0] - b[0]).reduce((s, [, l]) => s + l, 0);
    return { count: this.count, lossSum, grads: this.sums };
  }
}
