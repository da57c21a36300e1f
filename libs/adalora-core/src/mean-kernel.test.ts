import test from 'ava';
import { MeanKernel } from './mean-kernel';

function values(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

// float64 sums over many magnitudes (some means underflow float32 to subnormals and to ±0), zeros of both signs
function sums(n: number, seed: number): Float64Array {
  const u = values(3 * n, seed);
  return Float64Array.from({ length: n }, (_, i) => {
    if (Math.abs(u[3 * i + 2]) < 0.03) return u[3 * i + 2] < 0 ? -0 : 0;
    return u[3 * i] * 2 ** Math.floor((u[3 * i + 1] + 0.5) * 200 - 170);
  });
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('the SIMD kernel gives the bits of float32((0 + sum) / samples) [+ reg in float32], any length', (t) => {
  const f = Math.fround;
  const kernel = new MeanKernel();
  let tiny = 0;
  for (const [n, samples, seed] of [[1, 1, 1], [6, 8, 2], [301, 3, 3], [9001, 256, 4], [5, 7, 5]] as const) {
    const sum = sums(n, seed);
    const reg = Float32Array.from(sums(n, seed + 10));
    for (const r of [undefined, reg]) {
      const out = new Float32Array(n);
      kernel.run(sum, samples, r, out);
      const want = Float32Array.from(sum, (s, i) => (r ? f((0 + s) / samples) + r[i] : (0 + s) / samples));
      t.deepEqual(bytes(out), bytes(want), `n ${n}, samples ${samples}, ${r ? 'with' : 'without'} reg`);
      tiny += out.filter((x) => x !== 0 && Math.abs(x) < 2 ** -126).length;
    }
  }
  t.true(tiny > 0, 'some means are float32 subnormals');
  t.throws(() => kernel.run(new Float64Array(3), 1, undefined, new Float32Array(4)), { message: /lengths differ \(sum 3, out 4\)/ });
});
