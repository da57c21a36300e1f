import test from 'ava';
import type { TrainableKey } from '@adalora/core';
import { float64FromTensor, wireFromFloat32, wireFromFloat64 } from '@adalora/protocol';
import { WasmArena } from '@adalora/wasm-simd';
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
  return { count: microBatches * 4, lossSum: Math.fround(rnd() * 3) * microBatches, tensors: new Map([['w' as TrainableKey, wireFromFloat64([n], g)]]), computeMs: 1 };
}

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

test('shares added in arrival order give the bits of the ordered sum (the optimizer’s way before)', (t) => {
  const n = 2000;
  const shares = Array.from({ length: 12 }, (_, i) => share(i + 1, 1 + (i % 3), n));
  // the way before: 0 + share 1 + share 2 + … in micro-batch order, inside the optimizer
  const ordered = new Float64Array(n);
  for (const s of shares) {
    const g = float64FromTensor(s.tensors.get('w' as TrainableKey)!);
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
  t.throws(() => acc.add({ count: 1, lossSum: 0, tensors: new Map([['w' as TrainableKey, wireFromFloat64([2], new Float64Array(2), 'float64', 'w', 'float64')]]), computeMs: 0 }, 0), { message: /'w' has 2 values in the share, 3 in the sum/ });
  t.throws(() => acc.add({ count: 1, lossSum: 0, tensors: new Map(), computeMs: 0 }, 0), { message: /lacks 'w'/ });
});

test('a flush judges each share by its per-sample norm over every tensor, of any float dtype, in arrival order; a refused share leaves the sum bit for bit', async (t) => {
  const a = 'a' as TrainableKey;
  const b = 'b' as TrainableKey;
  const acc = new GradientAccumulator(new Map([[a, { size: 1 }], [b, { size: 2 }]]));
  const seen: number[] = [];
  const judge = (norm: number) => (seen.push(norm), norm <= 10 ? null : `norm ${norm}`);
  const first = acc.add({ count: 2, lossSum: 1, tensors: new Map([[a, wireFromFloat64([1], Float64Array.of(3))], [b, wireFromFloat32([2], Float32Array.of(0, 4))]]), computeMs: 0 }, 0, judge);
  t.deepEqual(seen, [], 'judged by the flush, not before');
  acc.flush();
  t.is(await first, null);
  t.is(seen[0], 2.5, '‖(3, 0, 4)‖ / 2 samples');
  const before = acc.total();
  const snapshot = [...before.grads].map(([k, g]) => [k, g.slice()] as const);
  // a burst: an absurd share, a good one, a NaN one (float64 and float32): the good one is added alone
  const released: string[] = [];
  const absurd = acc.add({ count: 1, lossSum: 1, tensors: new Map([[a, wireFromFloat64([1], Float64Array.of(1e-300))], [b, wireFromFloat64([2], Float64Array.of(1, 1e3))]]), computeMs: 0 }, 1, judge, () => released.push('absurd'));
  const good = acc.add({ count: 1, lossSum: 2, tensors: new Map([[a, wireFromFloat64([1], Float64Array.of(0.5))], [b, wireFromFloat32([2], Float32Array.of(0.25, 1))]]), computeMs: 0 }, 2, judge, () => released.push('good'));
  const nan = new Uint8Array(wireFromFloat64([2], Float64Array.of(1, 2), 'float64', 'b', 'float64').data);
  nan.set(new Uint8Array(Float64Array.of(NaN).buffer), 8);
  const nan64 = acc.add({ count: 1, lossSum: 1, tensors: new Map([[a, wireFromFloat64([1], Float64Array.of(1))], [b, { dtype: 'float64', shape: [2], data: nan }]]), computeMs: 0 }, 3, judge, () => released.push('nan64'));
  const nan32 = acc.add({ count: 1, lossSum: 1, tensors: new Map([[a, wireFromFloat64([1], Float64Array.of(1))], [b, { dtype: 'float32', shape: [2], data: new Uint8Array(Float32Array.of(Infinity, 1).buffer) }]]), computeMs: 0 }, 4, judge, () => released.push('nan32'));
  acc.flush();
  t.is(await absurd, `norm ${Math.sqrt(1 + 1e6)}`);
  t.is(await good, null);
  t.regex((await nan64) ?? '', /NaN/);
  t.regex((await nan32) ?? '', /Infinity/);
  t.deepEqual(released, ['absurd', 'good', 'nan64', 'nan32'], 'every share released once judged');
  const after = acc.total();
  t.deepEqual([...after.grads].map(([k, g]) => [k, [...g]] as const), snapshot.map(([k, g]) => [k, k === a ? [g[0] + 0.5] : [g[0] + 0.25, g[1] + 1]] as const), 'only the good share was added');
  t.is(after.count, 3);
  t.is(after.lossSum, 3);
  t.is(acc.added, 2);
  // a burst of refused shares only: nothing changes
  const lone = acc.add({ count: 1, lossSum: 1, tensors: new Map([[a, wireFromFloat64([1], Float64Array.of(1e9))], [b, wireFromFloat32([2], Float32Array.of(0, 0))]]), computeMs: 0 }, 5, judge);
  acc.flush();
  t.regex((await lone) ?? '', /norm/);
  t.deepEqual([...acc.total().grads].map(([k, g]) => [k, [...g]] as const), [...after.grads].map(([k, g]) => [k, [...g]] as const));
});

test('shares added in bursts (flush now and then) give the bits of adding each as it comes; each is released once added', (t) => {
  const n = 3000;
  const shares = Array.from({ length: 9 }, (_, i) => share(i + 20, 1 + (i % 2), n));
  const sized = new Map([['w' as TrainableKey, { size: n }]]);
  const oneByOne = new GradientAccumulator(sized);
  for (const [i, s] of shares.entries()) {
    oneByOne.add(s, i);
    oneByOne.flush();
  }
  const bursts = new GradientAccumulator(sized);
  const released: number[] = [];
  for (const [i, s] of shares.entries()) {
    bursts.add(s, i, () => null, () => released.push(i));
    if (i % 4 === 2) {
      bursts.flush();
      t.is(bursts.pending, 0);
    }
  }
  t.true(bursts.pending > 0, 'some shares still wait for the total');
  t.deepEqual(released, [0, 1, 2, 3, 4, 5, 6], 'released when added, not before');
  t.is(bits(bursts.total().grads.get('w' as TrainableKey)!), bits(oneByOne.total().grads.get('w' as TrainableKey)!));
  t.deepEqual(released, [...shares.keys()]);
  bursts.reset();
  t.deepEqual([...bursts.total().grads.get('w' as TrainableKey)!].filter((x) => x !== 0), [], 'reset empties the sum');
});

test('a burst of shares received into the arena (float32 runs added four at a time, float64 between them) gives the bits and norms of adding each as it comes', (t) => {
  const n = 1003;
  const sized = new Map([['w' as TrainableKey, { size: n }], ['v' as TrainableKey, { size: 9 }]]);
  const arena = new WasmArena(8 << 20);
  // a float32 share lies in the arena as a coordinator receives it; the sixth is float64 (several micro-batches)
  const inArena = (bytes: Uint8Array) => {
    const at = arena.allocate(bytes.byteLength + 16)! + 4;
    arena.bytes.set(bytes, at);
    return arena.bytes.subarray(at, at + bytes.byteLength);
  };
  const shares: ShareGradients[] = Array.from({ length: 9 }, (_, i) => {
    const s = share(i + 40, i === 5 ? 3 : 1, n);
    const g = float64FromTensor(s.tensors.get('w' as TrainableKey)!);
    const v = Float32Array.from({ length: 9 }, (_, j) => (i + 1) * (j - 4) * 0.125);
    if (i === 5) return { ...s, tensors: new Map([...s.tensors, ['v' as TrainableKey, wireFromFloat32([9], v)]]) };
    const w = wireFromFloat32([n], Float32Array.from(g));
    const f32 = { ...w, data: inArena(w.data) };
    return { ...s, tensors: new Map([['w' as TrainableKey, f32], ['v' as TrainableKey, { ...wireFromFloat32([9], v), data: inArena(wireFromFloat32([9], v).data) }]]) };
  });
  t.is(shares[5].tensors.get('w' as TrainableKey)!.dtype, 'float64');
  const norms = (acc: GradientAccumulator, flushEach: boolean) => {
    const seen: number[] = [];
    for (const [i, s] of shares.entries()) {
      void acc.add(s, i, (norm) => (seen.push(norm), null));
      if (flushEach) acc.flush();
    }
    return { seen, total: acc.total() };
  };
  const one = norms(new GradientAccumulator(sized), true);
  const burst = norms(new GradientAccumulator(sized, arena), false);
  t.deepEqual(burst.seen, one.seen, 'each share judged on the same norm');
  for (const key of ['w', 'v'] as TrainableKey[]) t.is(bits(burst.total.grads.get(key)!), bits(one.total.grads.get(key)!), key);
});

test('a reset drops the shares still waiting and releases them (their memory serves later replies)', async (t) => {
  const sized = new Map([['w' as TrainableKey, { size: 50 }]]);
  const acc = new GradientAccumulator(sized);
  const released: number[] = [];
  const verdicts = [acc.add(share(1, 1, 50), 0, () => null, () => released.push(0)), acc.add(share(2, 1, 50), 1, () => null, () => released.push(1))];
  t.is(acc.pending, 2);
  acc.reset();
  t.deepEqual(released, [0, 1]);
  t.deepEqual(await Promise.all(verdicts), [null, null], 'their verdicts settle: nothing was refused');
  t.is(acc.pending, 0);
  t.is(acc.added, 0);
  t.true(acc.total().grads.get('w' as TrainableKey)!.every((x) => x === 0), 'nothing of them was added');
});
