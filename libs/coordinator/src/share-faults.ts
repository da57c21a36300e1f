import { ShareFailure } from './share-failure';

/** The run cannot go on: a share fails whichever worker computes it. */
export class RunStopped extends Error {
  override readonly name = 'RunStopped';
}

/**
 * The failures that blame a share (ShareFailure.blamesShare), per unit, over one covering of
 * units (a step's micro-batches, or the dev split's chunks). A unit that failed on two
 * different workers, or on every worker there is, fails because of the data or the model, not
 * a worker: retrying it forever would hang the run, so `record` stops it with the workers' words.
 */
export class ShareFaults {
  /** unit → worker id → what that worker's failure said */
  private readonly byUnit = new Map<number, Map<string, string>>();

  /** `what` names the covering and `unitName` its units in the error (`step 3`, `micro-batch`). */
  constructor(
    private readonly what: string,
    private readonly unitName: string,
  ) {}

  /**
   * Records the failure of `share`; `live` are the ids of the workers that could still take it.
   * Throws RunStopped when one of its units failed on two workers, or on all workers left.
   */
  record(share: readonly number[], failure: Error, live: readonly string[]): void {
    if (!(failure instanceof ShareFailure) || !failure.blamesShare) return;
    for (const unit of share) {
      const by = this.byUnit.get(unit) ?? new Map<string, string>();
      by.set(failure.workerId, failure.message);
      this.byUnit.set(unit, by);
      const untried = live.filter((id) => !by.has(id));
      if (by.size >= 2 || untried.length === 0) {
        const said = [...by.values()].join('; ');
        const on = by.size >= 2 ? `${by.size} different workers` : 'every worker there is';
        throw new RunStopped(`${this.what}: ${this.unitName} ${unit} failed on ${on}, so the data or the model is at fault, not a worker: ${said}`);
      }
    }
  }
}
