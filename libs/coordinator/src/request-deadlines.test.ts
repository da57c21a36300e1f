import test from 'ava';
import { RequestDeadlines } from './request-deadlines';

test('a fixed deadline is the same for every request', (t) => {
  const d = new RequestDeadlines({ ms: 1234 });
  d.observe('compute', 10, 99_999);
  t.is(d.forRequest('compute', 100, true), 1234);
  t.is(d.forRequest('evaluate', 1, false), 1234);
});

test("auto: 60 × the floor before any reply and on a link's first request (warm-up)", (t) => {
  const d = new RequestDeadlines({ ms: 'auto', floorMs: 500 });
  t.is(d.forRequest('compute', 8, true), 30_000, 'no reply seen yet');
  d.observe('compute', 8, 80);
  t.is(d.forRequest('compute', 8, false), 30_000, "this link's first request");
  t.is(new RequestDeadlines({ ms: 'auto' }).forRequest('compute', 8, false), 600_000, '10 min at the default floor of 10 s');
});

test('auto: three times the rows at the slowest recent per-row time, at least the floor', (t) => {
  const d = new RequestDeadlines({ ms: 'auto', floorMs: 500 });
  d.observe('compute', 8, 800); // 100 ms/row
  d.observe('compute', 4, 200); // 50 ms/row
  t.is(d.forRequest('compute', 8, true), 2400, 'the slowest rate, 3 × 8 rows × 100 ms');
  t.is(d.forRequest('compute', 16, true), 4800, 'a share that grew gets a deadline that grew with it');
  t.is(d.forRequest('compute', 1, true), 500, 'never below the floor');
  t.is(d.forRequest('evaluate', 8, true), 30_000, 'each kind learns from its own replies');
});

test('auto: only the last 32 replies count, so a slow start is forgotten', (t) => {
  const d = new RequestDeadlines({ ms: 'auto', floorMs: 1 });
  d.observe('compute', 1, 1000);
  for (let i = 0; i < 32; i++) d.observe('compute', 1, 10);
  t.is(d.forRequest('compute', 1, true), 30);
});
