import test from 'ava';
import { budgetSchedule, cube } from './budget-schedule';

// the public-bert trace's run (peft 0.21): T = 24, tinit 3, tfinal 5, deltaT 2, 12 modules 4 → 2
const cfg = { totalStep: 24, tinit: 3, tfinal: 5, deltaT: 2 };
const at = (step: number) => budgetSchedule(step, cfg, 48, 24);

test('phase 1 (warm-up): steps 0..tinit keep the initial budget and never mask', (t) => {
  for (const step of [0, 1, 2, 3]) t.deepEqual(at(step), { budget: 48, mask: false });
});

test('phase 3 (cubic decrease) starts right after tinit, as peft recorded it', (t) => {
  // values from fixtures/traces/public-bert (peft's own budget_schedule)
  t.deepEqual(at(4), { budget: 43, mask: true });
  t.deepEqual(at(5), { budget: 40, mask: false });
  t.deepEqual(at(6), { budget: 36, mask: true });
  t.deepEqual(at(13), { budget: 25, mask: false });
});

test('step T - tfinal is the last of phase 3: c = 0 gives the target, mask by deltaT', (t) => {
  t.deepEqual(at(18), { budget: 24, mask: true });
  t.deepEqual(at(19), { budget: 24, mask: false }); // 19 % 2 != 0
  t.deepEqual(budgetSchedule(18, { ...cfg, totalStep: 23 }, 48, 24), { budget: 24, mask: true });
});

test('phase 2 (final): steps > T - tfinal mask to the target every step', (t) => {
  for (const step of [20, 21, 23, 24, 100]) t.deepEqual(at(step), { budget: 24, mask: true });
});

test('tinit = 0 and tfinal = 0 boundaries', (t) => {
  const c = { totalStep: 10, tinit: 0, tfinal: 0, deltaT: 1 };
  t.deepEqual(budgetSchedule(0, c, 100, 10), { budget: 100, mask: false });
  // c = 0.9: floor(90 · 0.729 + 10) = floor(75.61)
  t.deepEqual(budgetSchedule(1, c, 100, 10), { budget: 75, mask: true });
  t.deepEqual(budgetSchedule(10, c, 100, 10), { budget: 10, mask: true });
  t.deepEqual(budgetSchedule(11, c, 100, 10), { budget: 10, mask: true });
});

test('the budget is floored, never rounded: an exact integer stays, just below goes down', (t) => {
  // c = 0.5: (init - target)·0.125 + target, exact in double
  const c = { totalStep: 4, tinit: 0, tfinal: 0, deltaT: 1 }; // step 2 → c = 0.5
  t.is(budgetSchedule(2, c, 18, 10).budget, 11); // 8·0.125 + 10 = 11 exactly
  t.is(budgetSchedule(2, c, 17, 10).budget, 10); // 7·0.125 + 10 = 10.875
});

test('cube is rounded like Python c ** 3 where Math.pow and c*c*c are not', (t) => {
  // [c, Python 3.12 c ** 3] where V8's Math.pow(c, 3) differs by an ulp
  const cases: [number, number][] = [
    [0.30000000000000004, 0.027000000000000014],
    [0.09090909090909094, 0.0007513148009015786],
    [0.9230769230769231, 0.7865270823850706],
  ];
  for (const [c, py] of cases) t.is(cube(c), py);
});

test('refuses a step that is not a non-negative integer', (t) => {
  t.throws(() => at(-1), { message: /step must be an integer >= 0/ });
  t.throws(() => at(1.5), { message: /step must be an integer >= 0/ });
});
