import test from 'ava';
import { WasmArena } from '@adalora/wasm-simd';
import { SumKernel } from './sum-kernel';

// float32 values over many magnitudes (subnormals, both zeros) and float64 sums that do not add exactly
function floats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5);
  return Float32Array.from({ length: n }, () => {
    const x = u();
    if (Math.abs(x) < 0.02) return x < 0 ? -0 : 0;
    return x * 2 ** Math.floor((u() + 0.5) * 260 - 150);
  });
}

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** Σ x² as the protocol's squares pass takes it: value i into lane i mod 4, the last n mod 4 into lane 0, then (l0 + l1) + (l2 + l3) */
function squares(g: Float32Array): number {
  const lanes = [0, 0, 0, 0];
  const whole = g.length - (g.length % 4);
  for (let i = 0; i < whole; i++) lanes[i % 4] += g[i] * g[i];
  for (let i = whole; i < g.length; i++) lanes[0] += g[i] * g[i];
  return lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
}

/** `g` at `offset` bytes into a buffer of its own (the bytes where a message leaves them) */
function placed(g: Float32Array, offset: number): Uint8Array {
  const buf = new Uint8Array(g.length * 4 + 8);
  buf.set(new Uint8Array(g.buffer), offset);
  return buf.subarray(offset, offset + g.length * 4);
}

test('adds float32 bytes at any offset into float64 sums with the bits of JS `sum[i] += g[i]`, and returns their Σ x² with the squares pass’s bits', (t) => {
  const sizes = [1, 6, 301, 9001, 5, 0, 4];
  const kernel = new SumKernel(sizes);
  const reference = sizes.map((n) => new Float64Array(n));
  t.deepEqual(kernel.sums.map((s) => s.length), sizes);
  for (let round = 0; round < 3; round++) {
    // a burst of two shares: the first from the committed sums, the second in place
    for (const [j, base] of (['sums', 'next'] as const).entries()) {
      sizes.forEach((n, k) => {
        const g = floats(n, 10 * round + 3 * j + k + 1);
        t.is(kernel.addSquared(k, placed(g, (round + j + k) % 4), base), squares(g), `squares of sum ${k}`);
        for (let i = 0; i < n; i++) reference[k][i] += g[i];
      });
    }
    kernel.commit();
  }
  sizes.forEach((_, k) => t.is(bits(kernel.sums[k]), bits(reference[k]), `sum ${k}`));
  // the sums are plain views: written from JS, read by the kernel
  kernel.sums[2].fill(0.25);
  kernel.addSquared(2, new Uint8Array(Float32Array.from({ length: 301 }, () => 0.5).buffer), 'sums');
  kernel.startNext(1, 'sums');
  kernel.commit();
  t.true(kernel.sums[2].every((x) => x === 0.75));
  t.is(kernel.sums[1][0], reference[1][0], 'a sum started in JS keeps its values');
});

test("from 'zero' a sum is 0 + value (−0 becomes +0, as in JS), whatever the committed sums hold", (t) => {
  const kernel = new SumKernel([9, 3]);
  kernel.sums[0].fill(7);
  kernel.sums[1].fill(7);
  const g = Float32Array.of(-0, 1.5, -2, 3e-40, 4, 5, 6, 7, -0);
  t.is(kernel.addSquared(0, placed(g, 3), 'zero'), squares(g));
  kernel.startNext(1, 'zero');
  kernel.commit();
  t.false([...kernel.sums[0]].some((x) => Object.is(x, -0)), 'no −0');
  t.deepEqual([...kernel.sums[0]], [...g].map((x) => 0 + x));
  t.deepEqual([...kernel.sums[1]], [0, 0, 0]);
});

test('sums not committed leave the committed ones bit for bit (a refused share is undone so)', (t) => {
  const kernel = new SumKernel([9]);
  kernel.addSquared(0, placed(floats(9, 1), 0), 'sums');
  kernel.commit();
  const committed = kernel.sums[0].slice();
  t.is(kernel.addSquared(0, placed(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, -Infinity), 1), 'sums'), Infinity);
  t.is(bits(kernel.sums[0]), bits(committed));
  t.true(Number.isNaN(kernel.addSquared(0, placed(Float32Array.of(1, 2, NaN, 4, 5, 6, 7, 8, 9), 2), 'next')));
  t.is(bits(kernel.sums[0]), bits(committed));
});

test('a byte count that does not match the sum, or no such sum, is refused', (t) => {
  const kernel = new SumKernel([3]);
  t.throws(() => kernel.addSquared(0, new Uint8Array(8), 'sums'), { message: /8 bytes for a sum of 3 values/ });
  t.throws(() => kernel.addSquared(1, new Uint8Array(12), 'sums'), { message: /no sum 1/ });
});

test('in a WasmArena, shares lying in it are read in place with the same bits as from a copy, up to the arena’s last byte', (t) => {
  const sizes = [301, 9001, 6];
  const arena = new WasmArena(1 << 20);
  const kernel = new SumKernel(sizes, arena);
  const copied = new SumKernel(sizes);
  t.is(WasmArena.holding(kernel.sums[1]), arena, 'the sums live in the arena');
  t.is(WasmArena.holding(kernel.next[1]), arena, 'both banks');
  for (let round = 0; round < 3; round++) {
    sizes.forEach((n, k) => {
      const g = floats(n, 7 * round + k + 1);
      const at = arena.allocate(n * 4 + 32)! + ((round + k) % 4);
      arena.bytes.set(new Uint8Array(g.buffer), at);
      t.is(kernel.addSquared(k, arena.bytes.subarray(at, at + n * 4), 'sums'), copied.addSquared(k, new Uint8Array(g.buffer), 'sums'));
    });
    kernel.commit();
    copied.commit();
  }
  sizes.forEach((_, k) => t.is(bits(kernel.sums[k]), bits(copied.sums[k]), `sum ${k}`));
  // 6 values ending at the arena's last byte: the pass reads none past them
  const end = arena.bytes.byteLength - 24;
  arena.bytes.set(new Uint8Array(Float32Array.of(1, 2, 3, 4, 5, 6).buffer), end);
  const before = Float64Array.from(kernel.sums[2]);
  t.is(kernel.addSquared(2, arena.bytes.subarray(end), 'sums'), 91);
  kernel.commit();
  t.deepEqual([...kernel.sums[2]], [...before].map((x, i) => x + (i + 1)));
});

test('bytesFor is what a kernel takes of an arena: it fits in exactly that room, not in 16 bytes less', (t) => {
  const sizes = [301, 9001, 6, 0];
  const need = SumKernel.bytesFor(sizes);
  const withRoom = (room: number) => {
    const arena = new WasmArena(1 << 20);
    arena.allocate(arena.bytes.byteLength - room); // the rest of the arena taken
    return WasmArena.holding(new SumKernel(sizes, arena).sums[1]);
  };
  t.truthy(withRoom(need));
  t.is(withRoom(need - 16), undefined);
});

test('an arena without room for the sums leaves them in memory of their own', (t) => {
  const arena = new WasmArena(1 << 16);
  const kernel = new SumKernel([20_000], arena);
  t.is(WasmArena.holding(kernel.sums[0]), undefined);
  t.is(kernel.addSquared(0, new Uint8Array(Float32Array.from({ length: 20_000 }, () => 0.5).buffer), 'sums'), 5000);
  kernel.commit();
  t.true(kernel.sums[0].every((x) => x === 0.5));
});

test('addShares gives the bits of addSquared share after share, for bursts of 1–9 shares, in the arena or not, any base', (t) => {
  const sizes = [7, 301, 9001, 0, 16];
  const arena = new WasmArena(4 << 20);
  const together = new SumKernel(sizes, arena);
  const oneByOne = new SumKernel(sizes);
  let seed = 1;
  for (const [round, count] of [1, 4, 5, 9, 2, 3].entries()) {
    const base = (['zero', 'sums', 'next'] as const)[round % 3];
    sizes.forEach((n, k) => {
      // the sixth share outside the arena (through the stage), and the first of one burst; the others in it, at any alignment
      const shares = Array.from({ length: count }, (_, j) => {
        const g = floats(n, seed++);
        if (j === 5 || (round === 4 && j === 0)) return placed(g, j % 4);
        const at = arena.allocate(n * 4 + 32)! + ((j + k) % 4);
        arena.bytes.set(new Uint8Array(g.buffer), at);
        return arena.bytes.subarray(at, at + n * 4);
      });
      const expected = shares.map((b, j) => oneByOne.addSquared(k, b, j === 0 ? base : 'next'));
      t.deepEqual(together.addShares(k, shares, base), expected, `squares, round ${round}, sum ${k}`);
      t.is(bits(together.next[k]), bits(oneByOne.next[k]), `next, round ${round}, sum ${k}`);
    });
    together.commit();
    oneByOne.commit();
  }
  sizes.forEach((_, k) => t.is(bits(together.sums[k]), bits(oneByOne.sums[k]), `sum ${k}`));
});

test('a pass over several shares keeps each one’s Σ x² apart: a non-finite share does not spill into its neighbours', (t) => {
  const arena = new WasmArena(1 << 20);
  const kernel = new SumKernel([13], arena);
  const inArena = (g: Float32Array) => {
    const at = arena.allocate(g.byteLength + 16)!;
    arena.bytes.set(new Uint8Array(g.buffer), at);
    return arena.bytes.subarray(at, at + g.byteLength);
  };
  const good = floats(13, 5);
  const bad = Float32Array.from(good, (x, i) => (i === 11 ? Infinity : x));
  const [a, b, c, d] = kernel.addShares(0, [inArena(good), inArena(bad), inArena(good), inArena(good.map((x) => 2 * x))], 'zero');
  t.is(a, squares(good));
  t.is(b, Infinity);
  t.is(c, squares(good));
  t.is(d, squares(good.map((x) => 2 * x)));
});
