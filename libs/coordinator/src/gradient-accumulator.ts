import { SumKernel, type TrainableKey } from '@adalora/core';
import type { WasmArena } from '@adalora/wasm-simd';
import { addInto, elementCount, squaresOf } from '@adalora/protocol';
import type { GradientSums } from '@adalora/training';
import type { ShareGradients } from './check-gradients';

/**
 * The running float64 sum of a step's gradient shares, added as they arrive. The shares are
 * float64 sums of float32 micro-batch gradients, which add exactly in practice, so the arrival
 * order gives the same bits as the micro-batch order (the worker-count identity test checks it)
 * while the coordinator sums during the wait for the slower shares instead of after the last.
 *
 * A share is judged on its norm when it arrives; the norm costs no read of its own, as the
 * receiving guard took each tensor's Σ x² while checking its values (see squaresOf). Accepted
 * shares wait in a queue for `flush` (the caller runs it when the thread is free, and `total`
 * does), which adds every waiting share tensor by tensor: each sum tensor (≤ 300 KB) then stays
 * in cache while the shares are added to it in arrival order — the same additions, in the same
 * order, as adding each share whole as it came, with the sum read from memory once per burst of
 * arrivals instead of once per share (a BERT-base sum is 16 MB: reading and writing it was most
 * of a share's cost).
 */
export class GradientAccumulator {
  /** the sums, views of the kernel's memory: float32 tensors are added by its SIMD pass, others in JS */
  private readonly kernel: SumKernel;
  private readonly sums = new Map<TrainableKey, Float64Array>();
  private readonly slots = new Map<TrainableKey, number>();
  /** accepted shares not yet added, in arrival order, each with what to call once it is */
  private readonly waiting: { readonly share: ShareGradients; readonly added?: () => void }[] = [];
  /** time spent in flush since the last reset (ms) */
  flushMs = 0;
  private count = 0;
  /** each share's loss sum by its first micro-batch: added in grid order at the end, as the losses need not add exactly */
  private readonly losses: [number, number][] = [];

  /** @param arena where the sums live: the memory shares are received into, so the add reads them in place (see SumKernel) */
  constructor(sizes: ReadonlyMap<TrainableKey, { readonly size: number }>, arena?: WasmArena) {
    this.kernel = new SumKernel([...sizes.values()].map((v) => v.size), arena);
    [...sizes.keys()].forEach((key, k) => {
      this.sums.set(key, this.kernel.sums[k]);
      this.slots.set(key, k);
    });
  }

  /**
   * Takes one checked share (its tensors match the trainables: see checkGradients; `place` is
   * its first micro-batch) unless `judge` refuses its per-sample norm (‖Σ gradients‖₂ / samples,
   * NaN or ∞ when a value is not finite): then nothing changes and judge's reason is returned.
   * The share's values are added at the next flush, which then calls `added` (its memory is free);
   * a reset before that drops the share and calls `added` too.
   */
  add(share: ShareGradients, place: number, judge: (perSampleNorm: number) => string | null = () => null, added?: () => void): string | null {
    let squares = 0;
    for (const [key, sum] of this.sums) {
      const t = share.tensors.get(key);
      if (!t) throw new Error(`GradientAccumulator: share lacks '${key}'`);
      if (elementCount(t.shape) !== sum.length) throw new Error(`GradientAccumulator: '${key}' has ${elementCount(t.shape)} values in the share, ${sum.length} in the sum`);
      squares += squaresOf(t);
    }
    const refused = judge(Math.sqrt(squares) / Math.max(1, share.count));
    if (refused !== null) return refused;
    this.waiting.push(added ? { share, added } : { share });
    this.count += share.count;
    this.losses.push([place, share.lossSum]);
    return null;
  }

  /** Adds the waiting shares (see the class comment) straight off their received bytes. */
  flush(): void {
    if (this.waiting.length === 0) return;
    const started = performance.now();
    for (const [key, sum] of this.sums) {
      const k = this.slots.get(key)!;
      for (const w of this.waiting) {
        const t = w.share.tensors.get(key)!;
        if (t.dtype === 'float32') this.kernel.addFloat32(k, t.data);
        else addInto(sum, t);
      }
    }
    for (const w of this.waiting) w.added?.();
    this.waiting.length = 0;
    this.flushMs += performance.now() - started;
  }

  /** Shares taken but not yet added. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Empties the sum for another step (its memory is kept); returns this. */
  reset(): this {
    for (const sum of this.sums.values()) sum.fill(0);
    for (const w of this.waiting) w.added?.();
    this.waiting.length = 0;
    this.count = 0;
    this.flushMs = 0;
    this.losses.length = 0;
    return this;
  }

  /** How many shares were taken. */
  get added(): number {
    return this.losses.length;
  }

  /** The sum over every share added, as one share (its arrays are this accumulator's: read them before reset). */
  total(): GradientSums {
    this.flush();
    const lossSum = [...this.losses].sort((a, b) => a[0] - b[0]).reduce((s, [, l]) => s + l, 0);
    return { count: this.count, lossSum, grads: this.sums };
  }
}
