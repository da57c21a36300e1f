import { SumKernel, type TrainableKey } from '@adalora/core';
import type { WasmArena } from '@adalora/wasm-simd';
import { addInto, elementCount, squaresOf } from '@adalora/protocol';
import type { GradientSums } from '@adalora/training';
import type { ShareGradients } from './check-gradients';

/** What a share's verdict is once judged: null when added, else why it was refused. */
export type Verdict = string | null;

interface Waiting {
  readonly share: ShareGradients;
  readonly place: number;
  readonly judge: (perSampleNorm: number) => string | null;
  readonly release?: () => void;
  readonly settle: (verdict: Verdict) => void;
}

/**
 * The running float64 sum of a step's gradient shares, added as they arrive. The shares are
 * float64 sums of float32 micro-batch gradients, which add exactly in practice, so the arrival
 * order gives the same bits as the micro-batch order (the worker-count identity test checks it)
 * while the coordinator sums during the wait for the slower shares instead of after the last.
 *
 * Shares wait in a queue for `flush` (the caller runs it when the thread is free, and `total`
 * does), which adds every waiting share tensor by tensor into the kernel's `next` sums, up to
 * four shares in one pass over a sum tensor — the same additions, in the same order, as adding
 * each share whole as it came, with the sum read and written once per four shares of a burst of
 * arrivals instead of once per share (a BERT-base sum is 16 MB, twice over with `next`).
 * The same pass takes each share's Σ x² (a share is read once: the receiving guard leaves the
 * finite check of gradient values to this pass: GradientValues in @adalora/protocol); then each
 * share is judged on its per-sample norm, in arrival order, and the sums are committed. A refused
 * share (NaN or ∞ included) is undone exactly: the burst is added again from the committed sums
 * without it (rare: a faulty worker).
 */
export class GradientAccumulator {
  /** the sums, in two banks (committed, being made): float32 tensors are added by its SIMD pass, others in JS */
  private readonly kernel: SumKernel;
  private readonly slots = new Map<TrainableKey, number>();
  private readonly waiting: Waiting[] = [];
  /** nothing committed since the reset: the first burst starts from zero (the committed bank holds an old step's sums) */
  private empty = true;
  /** time spent in flush since the last reset (ms) */
  flushMs = 0;
  private count = 0;
  /** each accepted share's loss sum by its first micro-batch: added in grid order at the end, as the losses need not add exactly */
  private readonly losses: [number, number][] = [];

  /** @param arena where the sums live: the memory shares are received into, so the pass reads them in place (see SumKernel) */
  constructor(sizes: ReadonlyMap<TrainableKey, { readonly size: number }>, arena?: WasmArena) {
    this.kernel = new SumKernel([...sizes.values()].map((v) => v.size), arena);
    [...sizes.keys()].forEach((key, k) => this.slots.set(key, k));
  }

  /**
   * Queues one checked share (its tensors match the trainables: see checkGradients; `place` is
   * its first micro-batch) for the next flush, which judges its per-sample norm with `judge`
   * (‖Σ gradients‖₂ / samples; NaN or ∞ when a value is not finite), adds it unless refused,
   * calls `release` (its memory is free) and settles the verdict: null when added, else judge's
   * reason. A reset before the flush drops the share, releases it and settles null.
   */
  add(share: ShareGradients, place: number, judge: (perSampleNorm: number) => string | null = () => null, release?: () => void): Promise<Verdict> {
    for (const [key, k] of this.slots) {
      const t = share.tensors.get(key);
      if (!t) throw new Error(`GradientAccumulator: share lacks '${key}'`);
      const size = this.kernel.sums[k].length;
      if (elementCount(t.shape) !== size) throw new Error(`GradientAccumulator: '${key}' has ${elementCount(t.shape)} values in the share, ${size} in the sum`);
    }
    return new Promise<Verdict>((settle) => this.waiting.push({ share, place, judge, ...(release && { release }), settle }));
  }

  /** Adds, judges and settles the waiting shares (see the class comment) straight off their received bytes. */
  flush(): void {
    if (this.waiting.length === 0) return;
    const started = performance.now();
    const burst = this.waiting.splice(0);
    const squares = this.addToNext(burst);
    const verdicts = burst.map((w, j) => w.judge(Math.sqrt(squares[j]) / Math.max(1, w.share.count)));
    const accepted = burst.filter((_, j) => verdicts[j] === null);
    if (accepted.length < burst.length && accepted.length > 0) this.addToNext(accepted);
    if (accepted.length > 0) {
      this.kernel.commit();
      this.empty = false;
    }
    for (const w of accepted) {
      this.count += w.share.count;
      this.losses.push([w.place, w.share.lossSum]);
    }
    this.flushMs += performance.now() - started;
    burst.forEach((w, j) => {
      w.release?.();
      w.settle(verdicts[j]);
    });
  }

  /** next = sums + the shares, tensor by tensor in arrival order; each share's Σ x² over all its tensors */
  private addToNext(shares: readonly Waiting[]): number[] {
    const squares = shares.map(() => 0);
    const first = this.empty ? 'zero' : 'sums';
    for (const [key, k] of this.slots) {
      const tensors = shares.map((w) => w.share.tensors.get(key)!);
      for (let j = 0; j < tensors.length; ) {
        if (tensors[j].dtype !== 'float32') {
          if (j === 0) this.kernel.startNext(k, first);
          addInto(this.kernel.next[k], tensors[j]);
          squares[j] += squaresOf(tensors[j]);
          j++;
          continue;
        }
        // float32 tensors of consecutive shares go to the kernel together (it reads and writes the sum once for them)
        let end = j + 1;
        while (end < tensors.length && tensors[end].dtype === 'float32') end++;
        const run = this.kernel.addShares(k, tensors.slice(j, end).map((t) => t.data), j === 0 ? first : 'next');
        for (const sq of run) squares[j++] += sq;
      }
    }
    return squares;
  }

  /** Shares queued and not yet judged. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Empties the sum for another step (its memory is kept); returns this. */
  reset(): this {
    this.empty = true;
    for (const w of this.waiting.splice(0)) {
      w.release?.();
      w.settle(null);
    }
    this.count = 0;
    this.flushMs = 0;
    this.losses.length = 0;
    return this;
  }

  /** How many shares were added. */
  get added(): number {
    return this.losses.length;
  }

  /** The sum over every share added, as one share (its arrays are this accumulator's: read them before the next flush or reset). */
  total(): GradientSums {
    this.flush();
    if (this.empty) for (const sum of this.kernel.sums) sum.fill(0); // no share added this step
    const lossSum = [...this.losses].sort((a, b) => a[0] - b[0]).reduce((s, [, l]) => s + l, 0);
    const grads = new Map<TrainableKey, Float64Array>();
    for (const [key, k] of this.slots) grads.set(key, this.kernel.sums[k]);
    return { count: this.count, lossSum, grads };
  }
}
