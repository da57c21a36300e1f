import test from 'ava';
import { createHash } from 'node:crypto';
import { mulberry32, normalSampler, uniform01, uniformOpen01 } from './seeded-random';

/** mulberry32 again, in exact BigInt arithmetic mod 2^32 (no Math.imul, no >>> tricks), as [0, 1) floats. */
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

test('uniform01(mulberry32): known first values for seeds 0, 1 and 42', (t) => {
  for (const [seed, want] of Object.entries(PYTHON_FIRST)) {
    const next = uniform01(mulberry32(Number(seed)));
    t.deepEqual(want.map(() => next()), want, `seed ${seed}`);
  }
});

test('mulberry32: agrees with an exact BigInt implementation over 2000 draws for several seeds', (t) => {
  for (const seed of [0, 1, 7, 42, 123456789, 2 ** 31, 2 ** 32 - 1]) {
    const a = uniform01(mulberry32(seed));
    const b = mulberry32BigInt(seed);
    for (let i = 0; i < 2000; i++) {
      const x = a();
      const y = b();
      if (x !== y) return t.fail(`seed ${seed}, draw ${i}: ${x} vs ${y}`);
    }
  }
  t.pass();
});

test('mulberry32: seeds are taken mod 2^32, the same seed repeats, values are uint32', (t) => {
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
    if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 32)) return t.fail(`draw ${i}: ${v}`);
  }
});

test('uniform01 is in [0, 1) and uniformOpen01 in (0, 1), even at the extreme uint32 values', (t) => {
  const fixed = (values: number[]) => {
    let i = 0;
    return () => values[i++];
  };
  const closed = uniform01(fixed([0, 2 ** 32 - 1]));
  t.is(closed(), 0);
  t.is(closed(), 1 - 2 ** -32);
  const open = uniformOpen01(fixed([0, 2 ** 32 - 1]));
  t.is(open(), 2 ** -33);
  t.is(open(), 1 - 2 ** -33);
});

test('normalSampler: mean ≈ 0 and variance ≈ 1 over 100k samples', (t) => {
  const n = 100_000;
  const draw = normalSampler(uniform01(mulberry32(2024)));
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

test('normalSampler: std scales; useSine returns r·cos θ then r·sin θ of the same pair', (t) => {
  const values = [0.3, 0.6, 0.8, 0.1];
  let i = 0;
  const draw = normalSampler(() => values[i++], { std: 0.5, useSine: true });
  const r = 0.5 * Math.sqrt(-2 * Math.log(0.3));
  t.is(draw(), r * Math.cos(2 * Math.PI * 0.6));
  t.is(draw(), r * Math.sin(2 * Math.PI * 0.6));
  t.is(i, 2); // the sine half costs no uniforms
  const r2 = 0.5 * Math.sqrt(-2 * Math.log(0.8));
  t.is(draw(), r2 * Math.cos(2 * Math.PI * 0.1));
  t.is(i, 4);
});

// Values recorded from the three generators this module replaced, before the merge (data's
// uint32 mulberry32, training's [0, 1) mulberry32 + normalSampler, models' weight-init normals),
// so the epoch order, the built-in task's data and a new head's init stay bit-identical.
const sha256 = (a: Float64Array | Float32Array | Uint32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

test('recorded: uint32 stream as data/epoch-order drew it', (t) => {
  const g = mulberry32(1234);
  t.deepEqual(Array.from({ length: 5 }, g), [314799534, 3021131492, 3877737075, 4168477787, 175938938]);
  const g7 = mulberry32(7);
  t.is(sha256(Uint32Array.from({ length: 10_000 }, g7)), 'dc18f5e033ccc1b92ce0b3dd4bd0f6fdec9595b0868eca1211ed87dfcae0ad17');
});

test('recorded: [0, 1) floats and normals as the built-in task drew them', (t) => {
  const u = uniform01(mulberry32(1234));
  t.deepEqual(Array.from({ length: 5 }, u), [0.07329497812315822, 0.7034119898453355, 0.9028560190927237, 0.9705493662040681, 0.04096397617831826]);
  const u7 = uniform01(mulberry32(7));
  t.is(sha256(Float64Array.from({ length: 10_000 }, u7)), 'c9e2f83b23392ed20281f3a8afb9cd6830e45621bc234f36de8a3ec6b7c180a7');
  const n = normalSampler(uniform01(mulberry32(1234)));
  t.deepEqual(Array.from({ length: 5 }, n), [-0.6596911495059279, 0.4443709237817734, 1.8668758804622678, 0.6211627695850401, 0.9435079708096635]);
  const n7 = normalSampler(uniform01(mulberry32(7)));
  t.is(sha256(Float64Array.from({ length: 10_000 }, n7)), '0bdb70c12d330ebafd1aa2a4b4d23087e36f61006f6f6e54d650cc0acc64cfea');
});
