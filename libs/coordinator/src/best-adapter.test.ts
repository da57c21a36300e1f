import test from 'ava';
import { BestTracker, finalVsBestWarning, MUCH_WORSE_BY } from './best-adapter';

test('BestTracker: keeps the first of the highest values; a NaN never improves', (t) => {
  const b = new BestTracker('accuracy', undefined, 0);
  t.deepEqual(b.consider(10, 0.5), { improved: true, stop: false });
  t.deepEqual(b.consider(20, NaN), { improved: false, stop: false });
  t.deepEqual(b.consider(30, 0.9), { improved: true, stop: false });
  t.deepEqual(b.consider(40, 0.9), { improved: false, stop: false }, 'a tie keeps the earlier adapter');
  t.deepEqual(b.consider(50, 0.2), { improved: false, stop: false }, 'no patience: never stops');
  t.deepEqual(b.best, { step: 30, metric: 'accuracy', value: 0.9 });
});

test("BestTracker: early stopping as HF's EarlyStoppingCallback: patience evaluations in a row without beating the best by more than the threshold", (t) => {
  const b = new BestTracker('mcc', 2, 0.01);
  const stops = [0.5, 0.505, 0.7, 0.705, 0.6].map((v, i) => b.consider((i + 1) * 5, v));
  // 0.5 first (resets); 0.505 improves the best but by <= 0.01 (a miss); 0.7 resets; 0.705 a miss; 0.6 a second miss: stop
  t.deepEqual(
    stops.map((s) => [s.improved, s.stop]),
    [
      [true, false],
      [true, false],
      [true, false],
      [true, false],
      [false, true],
    ],
  );
  t.deepEqual(b.best, { step: 20, metric: 'mcc', value: 0.705 }, 'best/ still follows every improvement');
});

test('BestTracker: a resumed run starts from the best its earlier part kept', (t) => {
  const b = new BestTracker('accuracy', 1, 0, { step: 75, metric: 'accuracy', value: 1 });
  t.deepEqual(b.consider(100, 0.98), { improved: false, stop: true });
  t.deepEqual(b.best, { step: 75, metric: 'accuracy', value: 1 });
});

test("finalVsBestWarning: the issue's run (accuracy 1.0 from step 75, 0.54 after the last masking step) is named with both values and best/", (t) => {
  const best = { step: 75, metric: 'accuracy', value: 1 };
  t.is(
    finalVsBestWarning({ step: 300, value: 0.54 }, best, 'runs/x/best/adapter'),
    'WARNING: the final adapter (step 300) has dev accuracy 0.5400, much worse than the best, 1.0000 at step 75: that adapter is kept in runs/x/best/adapter',
  );
  t.is(finalVsBestWarning({ step: 300, value: 1 - MUCH_WORSE_BY / 2 }, best, 'b'), null, 'a drop within the margin is no news');
  t.truthy(finalVsBestWarning({ step: 300, value: 1 - MUCH_WORSE_BY - 1e-3 }, best, 'b'));
  t.truthy(finalVsBestWarning({ step: 300, value: NaN }, best, 'b'), 'a NaN final metric is worse than any');
  t.is(finalVsBestWarning({ step: 75, value: 1 }, best, 'b'), null, 'the final adapter is the best one');
  t.is(finalVsBestWarning({ step: 300, value: 0.2 }, null, 'b'), null);
});
