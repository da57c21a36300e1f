import test from 'ava';
import { collectGarbage } from './full-collection';

/** An object nothing refers to but a WeakRef (made in its own function, so no local keeps it). */
function unreferenced(): WeakRef<object> {
  return new WeakRef({ payload: new Uint8Array(1024) });
}

test('collectGarbage collects what nothing refers to, without node --expose-gc', async (t) => {
  t.is((globalThis as { gc?: unknown }).gc, undefined, 'the test process has no gc(): the helper must expose its own');
  const ref = unreferenced();
  // a WeakRef's target lives at least until the end of the task that made or read it
  await new Promise((r) => setImmediate(r));
  collectGarbage();
  t.is(ref.deref(), undefined);
  collectGarbage(); // again: the collector is kept
});
