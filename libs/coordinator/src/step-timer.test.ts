import test from 'ava';
import { StepTimer } from './step-timer';

test('a step’s time splits into compute, wait, optimizer and communication', (t) => {
  const clock = [1000, 1500, 1800, 1900];
  const timer = new StepTimer(() => clock.shift()!);
  timer.gradientsGathered(); // 500 ms after the start, of which the slowest worker computed 350
  timer.optimizerApplied(); // 300 ms
  const times = timer.stateSent(350); // 100 ms to send the state
  t.deepEqual(times, { total: 0.9, compute: 0.35, optimizer: 0.3, communication: 0.1, wait: 0.5 - 0.35 });
});

test('wait is never negative (a worker’s own clock may count more than the coordinator saw)', (t) => {
  const clock = [0, 100, 100, 100];
  const timer = new StepTimer(() => clock.shift()!);
  timer.gradientsGathered();
  timer.optimizerApplied();
  t.is(timer.stateSent(250).wait, 0);
});
