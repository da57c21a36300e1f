import test from 'ava';
import { EmaKernel } from './ema-kernel';

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

// magnitudes from 2^-80 to 2^10 (products reach float32 subnormals and underflow), zeros, both signs
function wide(n: number, seed: number): Float32Array {
  const u = values(3 * n, seed);
  return Float32Array.from({ length: n }, (_, i) => (Math.abs(u[3 * i + 2]) < 0.05 ? 0 : u[3 * i] * 2 ** Math.floor((u[3 * i + 1] + 0.5) * 90 - 80)));
}

// the EMA step one element at a time, each operation rounded to float32 (what torch computes)
function reference(w: Float32Array, g: Float32Array, ipt: Float32Array, unc: Float32Array, b1: number, c1: number, b2: number, c2: number): void {
  const f = Math.fround;
  for (let k = 0; k < ipt.length; k++) {
    const x = Math.abs(f(w[k] * g[k]));
    const m = f(f(b1 * ipt[k]) + f(c1 * x));
    unc[k] = f(f(b2 * unc[k]) + f(c2 * Math.abs(f(x - m))));
    ipt[k] = m;
  }
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('the SIMD kernel gives the bits of the float32 operations one by one, any length, memory growing', (t) => {
  const f = Math.fround;
  const [b1, c1, b2, c2] = [f(0.85), f(1 - 0.85), f(0.85), f(1 - 0.85)];
  const kernel = new EmaKernel();
  let subnormal = 0;
  // lengths not multiples of 4 (the kernel's lanes), then one past the first 64 KiB page
  for (const [n, seed] of [[1, 1], [7, 2], [301, 3], [1073, 4], [9001, 5], [12, 6]] as const) {
    const [ipt, unc] = [new Float32Array(n), new Float32Array(n)];
    const [rIpt, rUnc] = [new Float32Array(n), new Float32Array(n)];
    for (let step = 0; step < 4; step++) {
      const w = wide(n, 100 * seed + step);
      const g = wide(n, 100 * seed + step + 50);
      kernel.run(w, g, ipt, unc, b1, c1, b2, c2);
      reference(w, g, rIpt, rUnc, b1, c1, b2, c2);
      t.deepEqual(bytes(ipt), bytes(rIpt), `n ${n}, step ${step}: ipt`);
      t.deepEqual(bytes(unc), bytes(rUnc), `n ${n}, step ${step}: unc`);
    }
    subnormal += unc.filter((x) => x !== 0 && x < 2 ** -126).length;
  }
  t.true(subnormal > 0, 'the data reach float32 subnormals (where a kernel flushing them to 0 would differ)');
  t.throws(() => kernel.run(new Float32Array(3), new Float32Array(4), new Float32Array(4), new Float32Array(4), b1, c1, b2, c2), { message: /lengths differ \(w 3, g 4, ipt 4, unc 4\)/ });
});
