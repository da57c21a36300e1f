import test from 'ava';
import { mulberry32 } from '@adalora/core';
import { epochOrder, epochSeed, globalBatches, splitAmong } from './epoch-order';

// Expected streams come from an independent Python transcription of the same definitions
// (mulberry32, murmur3 fmix32, Fisher–Yates with j = int(u / 2**32 * (i + 1))).
// mulberry32(0)'s first value / 2^32 = 0.26642920868471265, the value usually quoted for it.
test('mulberry32 and the epoch seed reproduce the reference streams', (t) => {
  const g0 = mulberry32(0);
  t.deepEqual([g0(), g0(), g0(), g0()], [1144304738, 1416247, 958946056, 627933444]);
  const g1 = mulberry32(1);
  t.deepEqual([g1(), g1(), g1(), g1()], [2693262067, 11749833, 2265367787, 4213581821]);
  t.is(epochSeed(42, 0), 3261428930);
  t.is(epochSeed(42, 1), 756601863);
});

test('epochOrder is the reference permutation, differs by epoch and seed, identity without shuffle', (t) => {
  t.deepEqual(Array.from(epochOrder(10, 0, 42, true)), [4, 6, 1, 8, 3, 2, 0, 5, 7, 9]);
  t.deepEqual(Array.from(epochOrder(10, 1, 42, true)), [2, 6, 0, 8, 5, 3, 4, 9, 7, 1]);
  t.deepEqual(Array.from(epochOrder(10, 0, 43, true)), [5, 4, 6, 1, 7, 0, 8, 9, 3, 2]);
  t.deepEqual(Array.from(epochOrder(5, 3, 42, false)), [0, 1, 2, 3, 4]);
  t.deepEqual(Array.from(epochOrder(0, 0, 1, true)), []);
});

test('every epoch order is a permutation (invariant)', (t) => {
  for (let epoch = 0; epoch < 20; epoch++) {
    const o = Array.from(epochOrder(97, epoch, 7, true)).sort((a, b) => a - b);
    t.deepEqual(o, Array.from({ length: 97 }, (_, i) => i));
  }
  t.throws(() => epochOrder(3, -1, 0, true), { code: 'DATA_ERR_BAD_OPTION', message: /epoch must be an integer in \[0, 2\^32\)/ });
  t.throws(() => epochOrder(3, 0, 1.5, true), { code: 'DATA_ERR_BAD_OPTION', message: /seed must be/ });
});

test('globalBatches keeps or drops the short last batch', (t) => {
  const order = [5, 1, 4, 0, 3, 2, 6];
  t.deepEqual(globalBatches(order, 3, false), [[5, 1, 4], [0, 3, 2], [6]]);
  t.deepEqual(globalBatches(order, 3, true), [[5, 1, 4], [0, 3, 2]]);
  t.deepEqual(globalBatches(Uint32Array.from([1, 0]), 2, true), [[1, 0]]);
  t.throws(() => globalBatches(order, 0, false), { code: 'DATA_ERR_BAD_OPTION' });
});

test('splitAmong gives contiguous parts, earlier workers taking the remainder', (t) => {
  t.deepEqual(splitAmong([0, 1, 2, 3, 4, 5, 6, 7], 3), [[0, 1, 2], [3, 4, 5], [6, 7]]);
  t.deepEqual(splitAmong([9, 8, 7, 6], 2), [[9, 8], [7, 6]]);
  t.deepEqual(splitAmong([1, 2], 3), [[1], [2], []]);
  t.deepEqual(splitAmong([1, 2, 3], 1), [[1, 2, 3]]);
  // Sizes differ by at most one and concatenate back to the batch.
  for (let n = 0; n < 20; n++) {
    const batch = Array.from({ length: n }, (_, i) => i);
    for (let w = 1; w < 7; w++) {
      const parts = splitAmong(batch, w);
      t.deepEqual(parts.flat(), batch);
      const sizes = parts.map((p) => p.length);
      t.true(Math.max(...sizes) - Math.min(...sizes) <= 1);
      t.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
    }
  }
  t.throws(() => splitAmong([1], 0), { code: 'DATA_ERR_BAD_OPTION' });
});
