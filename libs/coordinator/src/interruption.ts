/** What {@link Interruption.unless} resolves with once the run was asked to stop. */
export const INTERRUPTED = Symbol('interrupted');

/**
 * A run's "stop, please" (SIGINT/SIGTERM): once requested, every wait raced against it ends at
 * once, so the step loop stops at its next await instead of at the end of a long step.
 */
export class Interruption {
  private wake: () => void = () => {};
  private readonly signal = new Promise<typeof INTERRUPTED>((resolve) => (this.wake = () => resolve(INTERRUPTED)));
  private asked = false;

  get requested(): boolean {
    return this.asked;
  }

  request(): void {
    this.asked = true;
    this.wake();
  }

  /** `work`, or INTERRUPTED as soon as a stop is requested; an abandoned `work` may fail later unseen. */
  unless<T>(work: Promise<T>): Promise<T | typeof INTERRUPTED> {
    work.catch(() => {});
    return Promise.race([work, this.signal]);
  }
}
