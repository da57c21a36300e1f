import test from 'ava';
import { learningRate, type LrSchedule } from './lr-schedule';

/**
 * transformers/optimization.py, transcribed: the multipliers LambdaLR applies to the base lr;
 * `current_step` is the number of scheduler.step() calls so far, i.e. the 0-based optimizer step.
 */
const hf = {
  // get_linear_schedule_with_warmup
  linear(currentStep: number, numWarmupSteps: number, numTrainingSteps: number): number {
    if (currentStep < numWarmupSteps) return currentStep / Math.max(1, numWarmupSteps);
    return Math.max(0.0, (numTrainingSteps - currentStep) / Math.max(1, numTrainingSteps - numWarmupSteps));
  },
  // get_constant_schedule_with_warmup
  constant(currentStep: number, numWarmupSteps: number): number {
    if (currentStep < numWarmupSteps) return currentStep / Math.max(1.0, numWarmupSteps);
    return 1.0;
  },
};

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-15 + 1e-12 * Math.abs(b);

test('linear with warm-up: step 0, in warm-up, at the boundary, mid-decay, at the end, after it', (t) => {
  const s: LrSchedule = { lr: 1e-3, kind: 'linear', warmupSteps: 10, totalSteps: 110 };
  t.is(learningRate(0, s), 0); // the first step of a warm-up trains with lr 0, as in HF
  t.true(close(learningRate(1, s), 1e-4));
  t.true(close(learningRate(5, s), 5e-4));
  t.true(close(learningRate(9, s), 9e-4));
  t.true(close(learningRate(10, s), 1e-3)); // the peak, at the boundary
  t.true(close(learningRate(11, s), 1e-3 * 99 / 100));
  t.true(close(learningRate(60, s), 5e-4));
  t.true(close(learningRate(109, s), 1e-5));
  t.is(learningRate(110, s), 0);
  t.is(learningRate(111, s), 0);
  t.is(learningRate(10_000, s), 0);
});

test('linear without warm-up starts at the full lr', (t) => {
  const s: LrSchedule = { lr: 2e-5, kind: 'linear', warmupSteps: 0, totalSteps: 4 };
  const want = [2e-5, 1.5e-5, 1e-5, 0.5e-5, 0, 0];
  want.forEach((w, k) => t.true(close(learningRate(k, s), w), `step ${k}: ${learningRate(k, s)} vs ${w}`));
});

test('constant with warm-up: ramps, then stays at lr, also after totalSteps', (t) => {
  const s: LrSchedule = { lr: 0.1, kind: 'constant', warmupSteps: 4, totalSteps: 8 };
  [0, 0.025, 0.05, 0.075].forEach((w, k) => t.true(close(learningRate(k, s), w), `step ${k}: ${learningRate(k, s)} vs ${w}`));
  t.is(learningRate(4, s), 0.1);
  t.is(learningRate(8, s), 0.1);
  t.is(learningRate(100, s), 0.1);
  t.is(learningRate(0, { ...s, warmupSteps: 0 }), 0.1);
});

test('matches HF get_linear/constant_schedule_with_warmup on a grid, edge cases included', (t) => {
  const lr = 3e-4;
  let checked = 0;
  // includes warm-up longer than the run, warm-up == total, a 1-step run
  for (const [warmup, total] of [[0, 1], [0, 7], [1, 1], [1, 5], [3, 3], [3, 10], [6, 4], [10, 100]]) {
    for (let step = 0; step <= total + 3; step++) {
      const lin = learningRate(step, { lr, kind: 'linear', warmupSteps: warmup, totalSteps: total });
      t.true(close(lin, lr * hf.linear(step, warmup, total)), `linear warmup ${warmup} total ${total} step ${step}: ${lin}`);
      const con = learningRate(step, { lr, kind: 'constant', warmupSteps: warmup, totalSteps: total });
      t.true(close(con, lr * hf.constant(step, warmup)), `constant warmup ${warmup} step ${step}: ${con}`);
      t.true(lin >= 0 && lin <= lr);
      checked++;
    }
  }
  t.true(checked > 150);
});

test('linear is non-decreasing in warm-up and non-increasing after', (t) => {
  const s: LrSchedule = { lr: 1, kind: 'linear', warmupSteps: 7, totalSteps: 50 };
  for (let k = 1; k <= 60; k++) {
    const prev = learningRate(k - 1, s);
    const cur = learningRate(k, s);
    if (k <= s.warmupSteps) t.true(cur > prev, `step ${k}`);
    else t.true(cur <= prev, `step ${k}`);
  }
});
