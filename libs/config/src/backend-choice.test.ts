import test from 'ava';
import { BACKEND_CHOICES, parseBackendChoice } from './backend-choice';

test('parseBackendChoice accepts every valid choice', (t) => {
  for (const c of ['auto', 'tensorflow', 'wasm', 'cpu']) t.is(parseBackendChoice(c) as string, c);
  t.deepEqual([...BACKEND_CHOICES], ['auto', 'tensorflow', 'wasm', 'cpu']);
});

test('parseBackendChoice rejects other names, naming the valid values', (t) => {
  for (const bad of ['', 'gpu', 'WASM', 'tfjs-node', ' cpu']) {
    const err = t.throws(() => parseBackendChoice(bad));
    t.is(err?.message, `backend '${bad}' is not valid (expected one of: auto, tensorflow, wasm, cpu)`);
  }
});
