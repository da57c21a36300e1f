import test from 'ava';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { WeightStore } from './weights';

const sha256 = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

function initialised(seed: number, name: string, shape: number[], std: number): Float32Array {
  const store = new WeightStore(new Map(), 'test', { initSeed: seed });
  const t = store.takeOrInit(name, shape, { kind: 'normal', std });
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

// Recorded from the weight init's own generator before it moved onto @adalora/core's PRNG: a
// new head for a given seed must stay the same bits (resumed and reproduced runs rely on it).
test('a new head is the recorded N(0, std²) draw for its seed and name (odd sizes too)', (t) => {
  const w = initialised(42, 'classifier.weight', [5, 33], 0.02);
  t.deepEqual(Array.from(w.slice(0, 5)), [0.013892179355025291, 0.01090233400464058, -0.02399112656712532, -0.008964932523667812, 0.005076152738183737]);
  t.is(sha256(w), 'bde89b808fe28d0fb8d0c3b5420efd9c65e544ea4efe57a7aa9648c7c8769710');
  t.is(sha256(initialised(0, 'pooler.dense.weight', [101, 99], 1)), '06f79b0a55e789558aeaf863fa8bcb1d2ed9aa71d70c1948463ad44e5027bdd6');
});

test('the draw depends on seed and name, not on what was created before', (t) => {
  const store = new WeightStore(new Map(), 'test', { initSeed: 42 });
  tf.dispose(store.takeOrInit('other.weight', [7], { kind: 'normal', std: 1 }));
  const after = store.takeOrInit('classifier.weight', [5, 33], { kind: 'normal', std: 0.02 });
  t.is(sha256(after.dataSync() as Float32Array), sha256(initialised(42, 'classifier.weight', [5, 33], 0.02)));
  after.dispose();
  t.notDeepEqual(initialised(43, 'classifier.weight', [4], 1), initialised(42, 'classifier.weight', [4], 1));
  t.notDeepEqual(initialised(42, 'classifier.bias', [4], 1), initialised(42, 'classifier.weight', [4], 1));
});
