/** a share may be at most this many times the largest recent per-sample norm */
const RATIO = 1e3;
/** accepted shares remembered: a few steps' worth */
const WINDOW = 64;
/** shares accepted before the relative rule applies (only the ceiling holds before) */
const WARM_UP = 4;
/**
 * per-sample norm no float32 fine-tuning survives, refused even during warm-up: AdamW's second
 * moment would hold its square for thousands of steps and freeze the honest updates
 */
const CEILING = 1e8;

/**
 * Judges a share by its per-sample norm (‖Σ gradients‖₂ / samples, see GradientAccumulator.add).
 * Refuses one that is not finite, or finite but absurd: far beyond the largest of the recent
 * accepted shares (RATIO ×, after WARM_UP shares), or beyond CEILING at any time. A wrong but
 * plausible gradient passes; this stops the one that would wreck the optimizer state.
 */
export class GradientNormGuard {
  private readonly recent: number[] = [];

  /** Why a share with this per-sample norm is refused, or null when it is accepted (and remembered). */
  judge(norm: number): string | null {
    if (!Number.isFinite(norm)) return `per-sample gradient norm is ${norm} (a value is not finite, or its square overflows)`;
    if (norm > CEILING) return `per-sample gradient norm ${norm.toExponential(2)} is over ${CEILING.toExponential(0)}`;
    if (this.recent.length >= WARM_UP) {
      const largest = Math.max(...this.recent);
      if (norm > RATIO * largest) return `per-sample gradient norm ${norm.toExponential(2)} is over ${RATIO} × the largest of the last ${this.recent.length} accepted shares (${largest.toExponential(2)})`;
    }
    this.recent.push(norm);
    if (this.recent.length > WINDOW) this.recent.shift();
    return null;
  }
}
