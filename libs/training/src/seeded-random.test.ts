import test from 'ava';
import { mulberry32, normalSampler } from './seeded-random';

/** mulberry32 again, in exact BigInt arithmetic mod 2^32 (no Math.imul, no >>> tricks). */
function mulberry32BigInt(seed: number): () => number {
  const M = 1n << 32n;
  const mul = (x: bigint, y: bigint) => (x * y) % M;
  let a = BigInt(seed >>> 0);
  return () => {
    a = (a + 0x6d2b79f5n) % M;
    let t = a;
    t = mul(t ^ (t >> 15n), t | 1n);
    t = t ^ ((t + mul(t ^ (t >> 7n), t | 61n)) % M);
    return Number(t ^ (t >> 14n)) / 2 ** 32;
  };
}

// Printed once by a Python transcription of the same algorithm (ints mod 2**32), pasted here.
const PYTHON_FIRST: Record<number, number[]> = {
  0: [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197, 0.1462021479383111, 0.46732782293111086],
  1: [0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741, 0.9683778982143849],
  42: [0.6011037519201636, 0.44829055899754167, 0.8524657934904099],
};

test('mulberry32: known first values for seeds 0, 1 and 42', (t) => {
  for (const [seed, want] of Object.entries(PYTHON_FIRST)) {
    const next = mulberry32(Number(seed));
    t.deepEqual(want.map(() => next()), want, `seed ${seed}`);
  }
});

test('mulberry32: agrees with an exact BigInt implementation over 2000 draws for several seeds', (t) => {
  for (const seed of [0, 1, 7, 42, 123456789, 2 ** 31, 2 ** 32 - 1]) {
    const a = mulberry32(seed);
    const b = mulberry32BigInt(seed);
    for (let i = 0; i < 2000; i++) {
      const x = a();
      const y = b();
      if (x !== y) return t.fail(`seed ${seed}, draw ${i}: ${x} vs ${y}`);
    }
  }
  t.pass();
});

test('mulberry32: seeds are taken mod 2^32, the same seed repeats, values in [0, 1)', (t) => {
  const first = (seed: number, n = 5) => {
    const r = mulberry32(seed);
    return Array.from({ length: n }, r);
  };
  t.deepEqual(first(2 ** 32 + 5), first(5));
  t.deepEqual(first(-1), first(2 ** 32 - 1));
  t.deepEqual(first(9), first(9));
  t.notDeepEqual(first(9), first(10));
  const r = mulberry32(3);
  for (let i = 0; i < 10_000; i++) {
    const v = r();
    if (!(v >= 0 && v < 1)) return t.fail(`draw ${i}: ${v}`);
  }
});

test('normalSampler: mean ≈ 0 and variance ≈ 1 over 100k samples', (t) => {
  const n = 100_000;
  const draw = normalSampler(mulberry32(2024));
  let sum = 0;
  let sumSq = 0;
  let beyond3 = 0;
  for (let i = 0; i < n; i++) {
    const z = draw();
    if (!Number.isFinite(z)) return t.fail(`sample ${i}: ${z}`);
    sum += z;
    sumSq += z * z;
    if (Math.abs(z) > 3) beyond3++;
  }
  const mean = sum / n;
  const variance = sumSq / n - mean * mean;
  // standard errors: mean 1/sqrt(n) ≈ 0.0032, variance sqrt(2/n) ≈ 0.0045; allow ~5 of them
  t.true(Math.abs(mean) < 0.016, `mean ${mean}`);
  t.true(Math.abs(variance - 1) < 0.023, `variance ${variance}`);
  // tails as a normal's: P(|z| > 3) = 0.0027
  t.true(Math.abs(beyond3 / n - 0.0027) < 0.001, `P(|z|>3) ${beyond3 / n}`);
});

test('normalSampler: Box–Muller on consecutive pairs; a uniform draw of exactly 0 stays finite', (t) => {
  const values = [0.3, 0.6, 0, 0];
  let i = 0;
  const draw = normalSampler(() => values[i++]);
  t.true(Math.abs(draw() - Math.sqrt(-2 * Math.log(0.3)) * Math.cos(2 * Math.PI * 0.6)) < 1e-15);
  const z = draw(); // u1 = 0: clamped, not -log(0) = Infinity
  t.true(Number.isFinite(z) && z > 7, `${z}`);
  t.is(i, 4); // two uniforms per sample
});
