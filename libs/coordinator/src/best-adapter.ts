/** The best evaluation so far: its step and the value of the run's dev metric. */
export interface BestEval {
  readonly step: number;
  readonly metric: string;
  readonly value: number;
}

/** What an evaluation means for best/ and early stopping. */
export interface EvalVerdict {
  /** better than every earlier evaluation: best/ is to be replaced */
  readonly improved: boolean;
  /** `patience` evaluations in a row without an improvement above the threshold: stop */
  readonly stop: boolean;
}

/**
 * Follows the dev metric across evaluations (every metric here is better when higher): the best
 * one, kept in best/, and HF's EarlyStoppingCallback rule: an evaluation that does not beat the
 * best by more than `threshold` counts against `patience`; once `patience` count up in a row,
 * the run stops. A NaN metric never improves.
 */
export class BestTracker {
  private bestEval: BestEval | null;
  private misses = 0;

  constructor(
    readonly metric: string,
    private readonly patience: number | undefined,
    private readonly threshold: number,
    /** the best of the run this one resumes (its best/), if any */
    restored: BestEval | null = null,
  ) {
    this.bestEval = restored;
  }

  get best(): BestEval | null {
    return this.bestEval;
  }

  consider(step: number, value: number): EvalVerdict {
    const previous = this.bestEval;
    const improved = !Number.isNaN(value) && (previous === null || value > previous.value);
    if (improved) this.bestEval = { step, metric: this.metric, value };
    const counts = improved && (previous === null || value - previous.value > this.threshold);
    this.misses = counts ? 0 : this.misses + 1;
    return { improved, stop: this.patience !== undefined && this.misses >= this.patience };
  }
}

/** The final adapter's metric is "much worse" than the best when it is lower by more than this (metrics lie in [-1, 1]). */
export const MUCH_WORSE_BY = 0.05;

/**
 * The end-of-run warning when the final adapter scores much worse on dev than the best one kept
 * in `bestDir` (e.g. a last masking step that undid a converged run); null otherwise.
 */
export function finalVsBestWarning(final: { step: number; value: number }, best: BestEval | null, bestDir: string): string | null {
  if (best === null || best.step === final.step) return null;
  const worse = Number.isNaN(final.value) || best.value - final.value > MUCH_WORSE_BY;
  if (!worse) return null;
  const f = (v: number) => v.toFixed(4);
  return (
    `WARNING: the final adapter (step ${final.step}) has dev ${best.metric} ${f(final.value)}, much worse than the best, ` +
    `${f(best.value)} at step ${best.step}: that adapter is kept in ${bestDir}`
  );
}
