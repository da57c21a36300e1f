import test from 'ava';
import { PendingConnections } from './pending-connections';
import type { Timers } from './request-channel';

/** Timers driven by hand: `fire()` runs every timer still set. */
function manualTimers(): Timers & { fire(): void } {
  const set = new Map<number, () => void>();
  let next = 0;
  return {
    set: (fire) => (set.set(next, fire), next++),
    clear: (h) => void set.delete(h as number),
    fire: () => [...set.entries()].forEach(([h, f]) => (set.delete(h), f())),
  };
}

test('a connection that does not authenticate by its deadline is dropped; one that does is kept', (t) => {
  const timers = manualTimers();
  const pending = new PendingConnections<string>(10, 5000, timers);
  const dropped: string[] = [];
  pending.add('idle', (why) => dropped.push(`idle ${why}`));
  pending.add('worker', (why) => dropped.push(`worker ${why}`));
  pending.settle('worker');
  timers.fire();
  t.deepEqual(dropped, ['idle deadline']);
  t.is(pending.size, 0);
});

test('over the limit, the oldest pending connection makes room for the newest', (t) => {
  const pending = new PendingConnections<number>(3, 5000, manualTimers());
  const dropped: number[] = [];
  for (let i = 0; i < 500; i++) pending.add(i, () => dropped.push(i));
  t.is(pending.size, 3);
  t.deepEqual(dropped, Array.from({ length: 497 }, (_, i) => i));
  pending.dropAll();
  t.is(dropped.length, 500);
});
