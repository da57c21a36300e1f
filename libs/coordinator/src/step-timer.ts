/**
 * Where one step's wall time went, in ms, and the bytes it moved. The parts add up to `totalMs`
 * (`waitMs` is the remainder, never negative): compute, then the coordinator's serial work
 * (sum, optimizer, allocation, encode), then the transfers.
 */
export interface StepTimes {
  readonly totalMs: number;
  /** the slowest share's own compute time, as its worker measured it */
  readonly computeMs: number;
  /** reading the gradient replies (frames, checks, copies) and adding them up, then their mean */
  readonly sumMs: number;
  /** AdamW with the orthogonal regulariser's gradient */
  readonly optimizerMs: number;
  /** AdaLoRA's importance scores, budget and masking (and counting the kept ranks) */
  readonly allocationMs: number;
  /** the new state read out and encoded into frames (once for all workers) */
  readonly encodeMs: number;
  /** the state frames handed to every socket, plus the last share's round trip beyond its compute */
  readonly transferMs: number;
  /** the rest: workers idle or late, the event loop busy elsewhere */
  readonly waitMs: number;
  /** frame bytes received from the workers during the step */
  readonly bytesIn: number;
  /** frame bytes sent to the workers during the step (requests and state) */
  readonly bytesOut: number;
}

/** What the gathering of a step's shares measured (see gradientsFromShares). */
export interface GatherTimes {
  readonly computeMs: number;
  /** coordinator time spent reading and adding the shares as they arrived */
  readonly sumMs: number;
  /** the last-arriving share's round trip minus its compute */
  readonly lastTransferMs: number;
}

/** Marks the phases of one step (gradients gathered, optimizer applied, state encoded, state sent) as they end. */
export class StepTimer {
  private readonly started: number;
  private gathered = NaN;
  private optimized = NaN;
  private encoded = NaN;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.started = now();
  }

  gradientsGathered(): void {
    this.gathered = this.now();
  }

  optimizerApplied(): void {
    this.optimized = this.now();
  }

  stateEncoded(): void {
    this.encoded = this.now();
  }

  /**
   * Call once the state went out. `phaseMs` is the optimizer's own split (its `mean` counts as
   * summing); `gather` what the shares' gathering measured; `bytes` the step's traffic.
   */
  stateSent(gather: GatherTimes, phaseMs: { mean: number; optimizer: number; allocation: number }, bytes: { bytesIn: number; bytesOut: number }): StepTimes {
    const done = this.now();
    const totalMs = done - this.started;
    const computeMs = gather.computeMs;
    const sumMs = gather.sumMs + phaseMs.mean;
    // what apply() spent besides its three phases (loss sums, bookkeeping) counts as optimizer time
    const optimizerMs = Math.max(0, this.optimized - this.gathered - phaseMs.mean - phaseMs.allocation);
    const allocationMs = phaseMs.allocation;
    const encodeMs = this.encoded - this.optimized;
    const transferMs = done - this.encoded + Math.max(0, gather.lastTransferMs);
    const waitMs = Math.max(0, totalMs - computeMs - sumMs - optimizerMs - allocationMs - encodeMs - transferMs);
    return { totalMs, computeMs, sumMs, optimizerMs, allocationMs, encodeMs, transferMs, waitMs, ...bytes };
  }
}
