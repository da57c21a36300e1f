import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { orthogonalRegularizer, orthogonalRegularizerGradient } from './orthogonal-regularizer';

interface Mod {
  r: number;
  inF: number;
  out: number;
  A: Float64Array; // [r, in]
  B: Float64Array; // [out, r]
}

function rand(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround((s / 2 ** 32 - 0.5) * 1.2); // float32-representable, so tf sees the same θ
  });
}

const mods: Mod[] = [
  { r: 3, inF: 5, out: 4, A: rand(15, 1), B: rand(12, 2) },
  { r: 2, inF: 7, out: 3, A: rand(14, 3), B: rand(6, 4) },
  { r: 4, inF: 4, out: 6, A: rand(16, 5), B: rand(24, 6) },
];

// ‖C − I‖_F where C = M Mᵀ (rowsOf = true, M [r, n]) or Mᵀ M (M [n, r]), float64
function normCovMinusI(m: Float64Array, r: number, n: number, rowsOfA: boolean): number {
  let s = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let c = 0;
      for (let k = 0; k < n; k++) c += rowsOfA ? m[i * n + k] * m[j * n + k] : m[k * r + i] * m[k * r + j];
      const d = c - (i === j ? 1 : 0);
      s += d * d;
    }
  }
  return Math.sqrt(s);
}

function reference(ms: Mod[]): number {
  let s = 0;
  for (const m of ms) s += normCovMinusI(m.A, m.r, m.inF, true) + normCovMinusI(m.B, m.r, m.out, false);
  return s / (2 * ms.length);
}

for (const backend of ['cpu', 'wasm']) {
  test.serial(`${backend}: value equals the float64 sum of Frobenius norms over 2·#modules`, async (t) => {
    await tf.setBackend(backend);
    const got = tf.tidy(() => orthogonalRegularizer(mods.map((m) => ({ A: tf.tensor2d(Float32Array.from(m.A), [m.r, m.inF]), B: tf.tensor2d(Float32Array.from(m.B), [m.out, m.r]) }))).dataSync()[0]);
    const want = reference(mods);
    t.true(Math.abs(got - want) <= 1e-5 * want, `${got} vs ${want}`);
  });

  test.serial(`${backend}: gradient matches central finite differences (float64)`, async (t) => {
    await tf.setBackend(backend);
    const vars = mods.map((m) => ({ A: tf.variable(tf.tensor2d(Float32Array.from(m.A), [m.r, m.inF])), B: tf.variable(tf.tensor2d(Float32Array.from(m.B), [m.out, m.r])) }));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => orthogonalRegularizer(vars), vars.flatMap((v) => [v.A, v.B]));
    value.dispose();
    const h = 1e-6;
    let worst = 0;
    mods.forEach((m, mi) => {
      for (const which of ['A', 'B'] as const) {
        const g = grads[vars[mi][which].name].dataSync();
        const p = m[which];
        for (let k = 0; k < p.length; k++) {
          const keep = p[k];
          p[k] = keep + h;
          const up = reference(mods);
          p[k] = keep - h;
          const down = reference(mods);
          p[k] = keep;
          worst = Math.max(worst, Math.abs(g[k] - (up - down) / (2 * h)));
        }
      }
    });
    t.true(worst < 1e-6, `max |tf grad - finite difference| = ${worst}`);
    tf.dispose(Object.values(grads));
    t.is(tf.memory().numTensors, before);
    vars.forEach((v) => tf.dispose([v.A, v.B]));
  });

  test.serial(`${backend}: at ‖C − I‖ = 0 the gradient is 0, not NaN`, async (t) => {
    await tf.setBackend(backend);
    // A's rows orthonormal, B's columns orthonormal: R = 0 and every gradient is 0
    const A = tf.variable(tf.tensor2d([1, 0, 0, 0, 0, 1, 0, 0], [2, 4]));
    const B = tf.variable(tf.tensor2d([0, 1, 1, 0, 0, 0], [3, 2]));
    const { value, grads } = tf.variableGrads(() => orthogonalRegularizer([{ A, B }]), [A, B]);
    t.is(value.dataSync()[0], 0);
    for (const g of Object.values(grads)) t.true(g.dataSync().every((v) => v === 0), `${Array.from(g.dataSync())}`);
    const fast = orthogonalRegularizerGradient([{ A, B }], 0.5);
    t.is(fast.value, 0);
    t.true([...fast.grads[0].A, ...fast.grads[0].B].every((v) => Object.is(v, 0)), 'the tape-free gradient: +0 everywhere too');
    tf.dispose([value, A, B, ...Object.values(grads)]);
  });
}

const bits = (a: ArrayLike<number>) => Buffer.from(Float32Array.from(a).buffer);

for (const backend of ['cpu', 'wasm']) {
  test.serial(`${backend}: orthogonalRegularizerGradient gives the bits of tf.variableGrads × weight (ranks 1…60, near-orthonormal A and B)`, async (t) => {
    await tf.setBackend(backend);
    // [r, in, out]: BERT-like and odd sizes; 48 and above take the transposed matmuls on wasm
    const shapes = [[12, 768, 64], [12, 40, 3072], [5, 9, 7], [1, 3, 2], [48, 50, 60], [49, 51, 52], [60, 70, 65]];
    const vars = shapes.map(([r, inF, out], i) => ({
      // small values around a scaled identity, as trained adapters are: ‖C − I‖ well away from 0 and from huge
      A: tf.variable(tf.tidy(() => tf.randomNormal([r, inF], 0, 0.3 / Math.sqrt(inF), 'float32', 2 * i + 1).add(tf.eye(r, inF).mul(0.9)))),
      B: tf.variable(tf.tidy(() => tf.randomNormal([out, r], 0, 0.3 / Math.sqrt(out), 'float32', 2 * i + 2).add(tf.eye(out, r).mul(0.9)))),
    }));
    for (const weight of [0.5, 0.1]) {
      const before = tf.memory().numTensors;
      const got = orthogonalRegularizerGradient(vars, weight);
      t.is(tf.memory().numTensors, before, 'no tensor left behind');
      const { value, grads } = tf.variableGrads(() => orthogonalRegularizer(vars), vars.flatMap((v) => [v.A, v.B]));
      t.deepEqual(bits([got.value]), bits(value.dataSync()), `weight ${weight}: R`);
      vars.forEach((v, i) => {
        for (const which of ['A', 'B'] as const) {
          const want = tf.tidy(() => grads[v[which].name].mul(weight).dataSync());
          t.deepEqual(bits(got.grads[i][which]), bits(want), `weight ${weight}: ${which} of [${shapes[i].join(', ')}]`);
        }
      });
      tf.dispose([value, ...Object.values(grads)]);
    }
    t.deepEqual(orthogonalRegularizerGradient([], 0.5), { value: 0, grads: [] });
    vars.forEach((v) => tf.dispose([v.A, v.B]));
  });
}

test.serial('no modules gives 0; rank 0 modules count with norm 0; bad shapes are refused', async (t) => {
  await tf.setBackend('cpu');
  t.is(tf.tidy(() => orthogonalRegularizer([]).dataSync()[0]), 0);
  const m = mods[0];
  const got = tf.tidy(() =>
    orthogonalRegularizer([
      { A: tf.tensor2d(Float32Array.from(m.A), [m.r, m.inF]), B: tf.tensor2d(Float32Array.from(m.B), [m.out, m.r]) },
      { A: tf.zeros([0, 5]), B: tf.zeros([4, 0]) },
    ]).dataSync()[0],
  );
  const want = (reference([m]) * 2) / 4;
  t.true(Math.abs(got - want) <= 1e-5 * want);
  t.throws(() => orthogonalRegularizer([{ A: tf.zeros([2, 5]), B: tf.zeros([4, 3]) }]), { message: /expected A \[r, in\] and B \[out, r\]/ });
});
