import test from 'ava';
import { StepTimer } from './step-timer';
import { coordinatorMs, stepSplitOf, STEP_SPLIT_FIELDS } from './step-split';

const NO_PHASES = { mean: 0, optimizer: 0, allocation: 0 };
const NO_BYTES = { bytesIn: 0, bytesOut: 0 };

test('a step’s time splits into compute, sum, optimizer, allocation, encode, transfer and wait, which add up to the total', (t) => {
  const clock = [1000, 1500, 1800, 1850, 1900];
  const timer = new StepTimer(() => clock.shift()!);
  timer.gradientsGathered(); // 500 ms after the start: the slowest worker computed 350, summing took 40, the last share travelled 30
  timer.optimizerApplied(); // 300 ms in apply(): mean 20, allocation 80, so the optimizer 200
  timer.stateEncoded(); // 50 ms
  const times = timer.stateSent({ computeMs: 350, sumMs: 40, lastTransferMs: 30 }, { mean: 20, optimizer: 190, allocation: 80 }, { bytesIn: 7, bytesOut: 9 }); // 50 ms to hand the frames over
  t.deepEqual(times, { totalMs: 900, computeMs: 350, sumMs: 60, optimizerMs: 200, allocationMs: 80, encodeMs: 50, transferMs: 80, waitMs: 80, bytesIn: 7, bytesOut: 9 });
  const parts = times.computeMs + coordinatorMs({ ...times, samples: 1 }) + times.transferMs + times.waitMs;
  t.is(parts, times.totalMs);
});

test('wait is never negative (a worker’s own clock may count more than the coordinator saw)', (t) => {
  const clock = [0, 100, 100, 100, 100];
  const timer = new StepTimer(() => clock.shift()!);
  timer.gradientsGathered();
  timer.optimizerApplied();
  timer.stateEncoded();
  t.is(timer.stateSent({ computeMs: 250, sumMs: 0, lastTransferMs: 0 }, NO_PHASES, NO_BYTES).waitMs, 0);
});

test('stepSplitOf reads every field of a step record and names the one missing', (t) => {
  const record = { kind: 'step', step: 3, loss: 1, samples: 32, totalMs: 9, computeMs: 1, sumMs: 1, optimizerMs: 1, allocationMs: 1, encodeMs: 1, transferMs: 1, waitMs: 3, bytesIn: 10, bytesOut: 20 };
  const split = stepSplitOf(record);
  t.deepEqual(Object.keys(split).sort(), [...STEP_SPLIT_FIELDS].sort());
  t.is(split.bytesOut, 20);
  t.is(coordinatorMs(split), 4);
  t.throws(() => stepSplitOf({ ...record, encodeMs: undefined }), { message: /step 3 has no valid 'encodeMs'/ });
  t.throws(() => stepSplitOf({ kind: 'eval', step: 3 }), { message: /not a step record/ });
});
