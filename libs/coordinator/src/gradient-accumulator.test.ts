import test from 'ava';
import type { TrainableKey } from '@adalora/core';
import { GradientAccumulator } from './gradient-accumulator';
import type { ShareGradients } from './check-gradients';

// A share as workers make them: the float64 sum of float32 micro-batch gradients of varied scale.
function share(seed: number, microBatches: number, n: number): ShareGradients {
  let h = seed * 2654435761 + 1;
  const rnd = () => ((h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const g = new Float64Array(n);
  for (let m = 0; m < microBatches; m++) {
    for (let i = 0; i < n; i++) g[i] += Math.fround((rnd() - 0.5) * 10 ** (-6 + 5 * rnd()));
  }
  return { count: microBatches * 4, lossSum: Math.fround(rnd() * 3) * microBatches, grads: new Map([['w' as TrainableKey, g]]), computeMs: 1 };
}

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

test('shares added in arrival order give the bits of the ordered sum (the optimizer’s way before)', (t) => {
  const n = 2000;
  const shares = Array.from({ length: 12 }, (_, i) => share(i + 1, 1 + (i % 3), n));
  // the way before: 0 + share 1 + share 2 + … in micro-batch order, inside the optimizer
  const ordered = new Float64Array(n);
  for (const s of shares) {
    const g = s.grads.get('w' as TrainableKey)!;
    for (let i = 0; i < n; i++) ordered[i] += g[i];
  }
  const orderedLoss = shares.reduce((a, s) => a + s.lossSum, 0);
  for (const order of [[...shares.keys()], [...shares.keys()].reverse(), [5, 0, 11, 3, 7, 1, 9, 2, 10, 4, 8, 6]]) {
    const acc = new GradientAccumulator(new Map([['w' as TrainableKey, { size: n }]]));
    for (const i of order) acc.add(shares[i], i);
    const total = acc.total();
    t.is(bits(total.grads.get('w' as TrainableKey)!), bits(ordered), `order ${order.join(',')}`);
    t.is(total.lossSum, orderedLoss);
    t.is(total.count, shares.reduce((a, s) => a + s.count, 0));
    t.is(acc.added, shares.length);
  }
});

test('a share lacking a tensor or with the wrong size is refused', (t) => {
  const acc = new GradientAccumulator(new Map([['w' as TrainableKey, { size: 3 }]]));
  t.throws(() => acc.add({ count: 1, lossSum: 0, grads: new Map([['w' as TrainableKey, new Float64Array(2)]]), computeMs: 0 }, 0), { message: /'w'/ });
  t.throws(() => acc.add({ count: 1, lossSum: 0, grads: new Map(), computeMs: 0 }, 0), { message: /lacks 'w'/ });
});
