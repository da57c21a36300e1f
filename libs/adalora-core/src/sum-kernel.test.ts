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

test('adds float32 bytes at any offset into float64 sums with the bits of JS `sum[i] += g[i]`, sum by sum', (t) => {
  const sizes = [1, 6, 301, 9001, 5, 0, 4];
  const kernel = new SumKernel(sizes);
  const reference = sizes.map((n) => new Float64Array(n));
  t.deepEqual(kernel.sums.map((s) => s.length), sizes);
  for (let round = 0; round < 3; round++) {
    sizes.forEach((n, k) => {
      const g = floats(n, 10 * round + k + 1);
      const offset = (round + k) % 4; // the bytes where a message leaves them
      const buf = new Uint8Array(n * 4 + 8);
      buf.set(new Uint8Array(g.buffer), offset);
      kernel.addFloat32(k, buf.subarray(offset, offset + n * 4));
      for (let i = 0; i < n; i++) reference[k][i] += g[i];
    });
  }
  sizes.forEach((_, k) => t.is(bits(kernel.sums[k]), bits(reference[k]), `sum ${k}`));
  // the sums are plain views: written from JS, read by the kernel
  kernel.sums[2].fill(0.25);
  kernel.addFloat32(2, new Uint8Array(Float32Array.from({ length: 301 }, () => 0.5).buffer));
  t.true(kernel.sums[2].every((x) => x === 0.75));
  t.is(kernel.sums[1][0], reference[1][0], 'a neighbour sum is untouched');
});

test('a byte count that does not match the sum, or no such sum, is refused', (t) => {
  const kernel = new SumKernel([3]);
  t.throws(() => kernel.addFloat32(0, new Uint8Array(8)), { message: /8 bytes for a sum of 3 values/ });
  t.throws(() => kernel.addFloat32(1, new Uint8Array(12)), { message: /no sum 1/ });
});

test('in a WasmArena, shares lying in it are added in place with the same bits as from a copy; one without room for its last vector is copied', (t) => {
  const sizes = [301, 9001, 6];
  const arena = new WasmArena(1 << 20);
  const kernel = new SumKernel(sizes, arena);
  const copied = new SumKernel(sizes);
  t.is(WasmArena.holding(kernel.sums[1]), arena, 'the sums live in the arena');
  for (let round = 0; round < 3; round++) {
    sizes.forEach((n, k) => {
      const g = new Uint8Array(floats(n, 7 * round + k + 1).buffer);
      const at = arena.allocate(n * 4 + 32)! + ((round + k) % 4);
      arena.bytes.set(g, at);
      kernel.addFloat32(k, arena.bytes.subarray(at, at + n * 4));
      copied.addFloat32(k, g);
    });
  }
  sizes.forEach((_, k) => t.is(bits(kernel.sums[k]), bits(copied.sums[k]), `sum ${k}`));
  // 6 values end 8 bytes before the arena's end: the in-place pass would read 16 (two whole vectors of four) past them
  const end = arena.bytes.byteLength - 24;
  arena.bytes.set(new Uint8Array(Float32Array.of(1, 2, 3, 4, 5, 6).buffer), end);
  const before = Float64Array.from(kernel.sums[2]);
  kernel.addFloat32(2, arena.bytes.subarray(end, end + 24));
  t.deepEqual([...kernel.sums[2]], [...before].map((x, i) => x + (i + 1)));
});

test('an arena without room for the sums leaves them in memory of their own', (t) => {
  const arena = new WasmArena(1 << 16);
  const kernel = new SumKernel([20_000], arena);
  t.is(WasmArena.holding(kernel.sums[0]), undefined);
  kernel.addFloat32(0, new Uint8Array(Float32Array.from({ length: 20_000 }, () => 0.5).buffer));
  t.true(kernel.sums[0].every((x) => x === 0.5));
});
