/** Where one step's wall time went, in seconds. */
export interface StepTimes {
  readonly total: number;
  /** the slowest worker's own compute time */
  readonly compute: number;
  /** the coordinator's optimizer step and rank allocation */
  readonly optimizer: number;
  /** sending the new state to the workers */
  readonly communication: number;
  /** gathering the gradients beyond the slowest worker's compute: network, decoding, waiting */
  readonly wait: number;
}

/** Marks the phases of one step (gradients gathered, optimizer applied, state sent) as they end. */
export class StepTimer {
  private readonly started: number;
  private gathered = NaN;
  private optimized = NaN;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.started = now();
  }

  gradientsGathered(): void {
    this.gathered = this.now();
  }

  optimizerApplied(): void {
    this.optimized = this.now();
  }

  /** Call once the state went out; `computeMs` is the slowest share's compute time. */
  stateSent(computeMs: number): StepTimes {
    const done = this.now();
    const compute = computeMs / 1000;
    return {
      total: (done - this.started) / 1000,
      compute,
      optimizer: (this.optimized - this.gathered) / 1000,
      communication: (done - this.optimized) / 1000,
      wait: Math.max(0, (this.gathered - this.started) / 1000 - compute),
    };
  }
}
