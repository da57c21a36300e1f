/** How the learning rate moves over the run (HF `get_*_schedule_with_warmup` semantics). */
export interface LrSchedule {
  readonly lr: number;
  readonly kind: 'constant' | 'linear';
  readonly warmupSteps: number;
  readonly totalSteps: number;
}

/**
 * The learning rate used by optimizer step `step` (counted from 0), as torch's LambdaLR gives it:
 * 1. warm-up: lr · step / warmupSteps while step < warmupSteps;
 * 2. then constant, or linear decay to 0 at totalSteps.
 */
export function learningRate(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.lr * step) / Math.max(1, s.warmupSteps);
  if (s.kind === 'constant') return s.lr;
  return s.lr * Math.max(0, (s.totalSteps - step) / Math.max(1, s.totalSteps - s.warmupSteps));
}
