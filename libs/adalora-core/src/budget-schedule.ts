import type { AdaLoraConfig } from '@adalora/config';

/** What the budget schedule says at one step. */
export interface BudgetStep {
  /** total number of triplets to keep over all modules */
  readonly budget: number;
  /** whether this step masks the least important triplets down to `budget` */
  readonly mask: boolean;
}

/**
 * peft's `RankAllocator.budget_schedule(step)` (steps counted from 0, T = totalStep):
 * 1. warm-up, `step <= tinit`: the full initial budget, no masking;
 * 2. final fine-tuning, `step > T − tfinal`: the target budget, mask every step;
 * 3. in between: cubic decrease `floor((init − target)·c³ + target)` with
 *    `c = 1 − (step − tinit)/(T − tfinal − tinit)` in double precision, masking when `step % deltaT == 0`.
 * Pure: the caller decides what to do at `step == T − tfinal` (see RankAllocator).
 */
export function budgetSchedule(
  step: number,
  cfg: Pick<AdaLoraConfig, 'tinit' | 'tfinal' | 'totalStep' | 'deltaT'>,
  initBudget: number,
  targetBudget: number,
): BudgetStep {
  if (!Number.isInteger(step) || step < 0) throw new Error(`budgetSchedule: step must be an integer >= 0, got ${step}`);
  const { tinit, tfinal, totalStep, deltaT } = cfg;
  // 1. warm-up
  if (step <= tinit) return { budget: initBudget, mask: false };
  // 2. final fine-tuning
  if (step > totalStep - tfinal) return { budget: targetBudget, mask: true };
  // 3. cubic decrease
  const c = 1 - (step - tinit) / (totalStep - tfinal - tinit);
  return { budget: Math.floor((initBudget - targetBudget) * cube(c) + targetBudget), mask: step % deltaT === 0 };
}

const SPLIT = 134217729; // 2^27 + 1, Veltkamp splitting constant for doubles

// a·b = p + e exactly (Dekker's two-product without FMA)
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const ca = SPLIT * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = SPLIT * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

/**
 * c³ rounded once, as Python's `c ** 3` (libm pow, < 0.52 ulp) gives it; V8's Math.pow(c, 3)
 * differs from it by an ulp for ~10% of the c this schedule produces, c·c·c for ~25%.
 */
export function cube(c: number): number {
  const [h, l] = twoProduct(c, c); // c² = h + l
  const [p1, e1] = twoProduct(h, c);
  return p1 + (e1 + l * c);
}
