import test from 'ava';
import { Interruption, INTERRUPTED } from './interruption';

test('unless: the work’s value while no stop is asked; INTERRUPTED at once after, even for work that never ends', async (t) => {
  const stop = new Interruption();
  t.is(await stop.unless(Promise.resolve(7)), 7);
  t.false(stop.requested);
  const never = new Promise<number>(() => {});
  const waiting = stop.unless(never);
  stop.request();
  t.true(stop.requested);
  t.is(await waiting, INTERRUPTED);
  t.is(await stop.unless(never), INTERRUPTED, 'a wait begun after the request ends at once too');
});

test('unless: abandoned work that fails later raises nothing unhandled', async (t) => {
  const stop = new Interruption();
  let fail: (e: Error) => void = () => {};
  const work = new Promise<number>((_, reject) => (fail = reject));
  const waiting = stop.unless(work);
  stop.request();
  t.is(await waiting, INTERRUPTED);
  fail(new Error('the share failed after the stop'));
  await new Promise((r) => setTimeout(r, 10));
  t.pass();
});
