import test from 'ava';
import { ShareFailure } from './share-failure';
import { RunStopped, ShareFaults } from './share-faults';

const fault = (worker: string, message = `${worker} failed`) => new ShareFailure(worker, 'WORKER_ERR_FAULT', message);

test('a share that failed on one worker while others remain is retried', (t) => {
  const f = new ShareFaults('step 3', 'micro-batch');
  t.notThrows(() => f.record([0, 1], fault('a'), ['b', 'c']));
});

test('a unit that failed on two different workers stops the run with their words', (t) => {
  const f = new ShareFaults('step 3', 'micro-batch');
  f.record([0, 1], fault('a', 'inputIds holds 999'), ['b']);
  const e = t.throws(() => f.record([1], fault('b', 'inputIds holds 999 too'), ['c']), { instanceOf: RunStopped });
  t.is(e.message, 'step 3: micro-batch 1 failed on 2 different workers, so the data or the model is at fault, not a worker: inputIds holds 999; inputIds holds 999 too');
});

test('a unit that failed on every worker there is stops the run, even with one worker', (t) => {
  const f = new ShareFaults('eval', 'dev chunk');
  t.throws(() => f.record([2], fault('a'), []), { instanceOf: RunStopped, message: /^eval: dev chunk 2 failed on every worker there is/ });
  const g = new ShareFaults('step 0', 'micro-batch');
  t.throws(() => g.record([0], fault('a'), ['a']), { instanceOf: RunStopped }, 'the only live worker is the one that failed');
});

test('the same worker failing twice, a worker gone, or a deadline do not blame the share', (t) => {
  const f = new ShareFaults('step 0', 'micro-batch');
  f.record([0], fault('a'), ['b']);
  t.notThrows(() => f.record([0], fault('a'), ['b']), 'still only one worker failed it');
  t.notThrows(() => f.record([0], new ShareFailure('b', 'disconnected', 'gone'), []));
  t.notThrows(() => f.record([0], new ShareFailure('b', 'COORD_ERR_DEADLINE', 'late'), []));
  t.notThrows(() => f.record([0], new Error('deadline'), []));
});
