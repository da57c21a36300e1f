import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { adaptedLinear, frozenLinear, transposeWeight, type FrozenLinearWeights } from './adapted-linear-op';

// Reference: the formula as written, differentiated by tfjs autodiff (transposed matmuls).
function reference(x: tf.Tensor2D, xa: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, A: tf.Tensor2D, E: tf.Tensor2D | null, B: tf.Tensor2D, s: number): tf.Tensor2D {
  const ae = E ? A.mul(E) : A;
  const frozen = tf.matMul(x, W, false, true).add(b);
  return frozen.add(tf.matMul(tf.matMul(xa, ae, false, true), B, false, true).mul(s)) as tf.Tensor2D;
}

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = Math.max(b.abs().max().dataSync()[0], 1e-30);
    return a.sub(b).abs().max().dataSync()[0] / scale;
  });
}

interface Case {
  readonly n: number;
  readonly inF: number;
  readonly out: number;
  readonly r: number;
  readonly withE: boolean;
  readonly dropout: boolean;
}

function setup(c: Case, seed: number) {
  const rnd = (shape: number[], k: number) => tf.randomNormal(shape, 0, 1, 'float32', seed + k);
  const W = rnd([c.out, c.inF], 1).mul(0.2) as tf.Tensor2D;
  const b = rnd([c.out], 2) as tf.Tensor1D;
  const x = rnd([c.n, c.inF], 3) as tf.Tensor2D;
  const A = rnd([c.r, c.inF], 4) as tf.Tensor2D;
  const E = rnd([c.r, 1], 5) as tf.Tensor2D;
  const B = rnd([c.out, c.r], 6) as tf.Tensor2D;
  const R = rnd([c.n, c.out], 7); // dL/dy, so dy is not all ones
  // A fixed dropout mask (keep 1/2, scale 2) so the reference sees the same x̃.
  const mask = tf.randomUniform([c.n, c.inF], 0, 1, 'float32', seed + 8).greater(0.5).toFloat().mul(2);
  const weights: FrozenLinearWeights = { weight: W, weightT: transposeWeight(W), bias: b };
  return { W, b, x, A, E, B, R, mask, weights };
}

async function checkCase(t: import('ava').ExecutionContext, backend: string, c: Case): Promise<void> {
  await tf.setBackend(backend);
  const s = 8 / (4 + 1e-5);
  tf.tidy(() => {
    const { W, b, x, A, E, B, R, mask, weights } = setup(c, 17);
    const e = c.withE ? E : null;
    // Differentiate w.r.t. [x, A, E, B] (AdaLoRA) or [x, A, B] (LoRA: E is not an input).
    const unpack = (v: tf.Tensor[]) => (c.withE ? v : [v[0], v[1], E, v[2]]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const ours = (...v: tf.Tensor[]) => {
      const [xx, aa, ee, bb] = unpack(v);
      const xa = c.dropout ? (xx.mul(mask) as tf.Tensor2D) : undefined;
      return adaptedLinear(xx, weights, { A: aa, E: c.withE ? ee : null, B: bb, scaling: s }, xa).mul(R).sum();
    };
    const ref = (...v: tf.Tensor[]) => {
      const [xx, aa, ee, bb] = unpack(v);
      const xa = c.dropout ? (xx.mul(mask) as tf.Tensor2D) : xx;
      return reference(xx, xa, W, b, aa, c.withE ? ee : null, bb, s).mul(R).sum();
    };
    const label = `${backend} ${JSON.stringify(c)}`;
    const inputs = c.withE ? [x, A, E, B] : [x, A, B];
    const names = c.withE ? ['x', 'A', 'E', 'B'] : ['x', 'A', 'B'];
    const yOurs = adaptedLinear(x, weights, { A, E: e, B, scaling: s }, c.dropout ? (x.mul(mask) as tf.Tensor2D) : undefined);
    const yRef = reference(x, c.dropout ? (x.mul(mask) as tf.Tensor2D) : x, W, b, A, e, B, s);
    t.deepEqual(yOurs.shape, [c.n, c.out]);
    t.true(relErr(yOurs, yRef) <= 1e-5, `${label}: y`);
    const gOurs = tf.grads(ours)(inputs);
    if (c.r === 0) {
      // k = 0: the branch is absent; dx is the frozen path's, the factors get zero-size gradients.
      const dxRef = tf.grad((xx: tf.Tensor) => tf.matMul(xx as tf.Tensor2D, W, false, true).add(b).mul(R).sum())(x);
      t.true(relErr(gOurs[0], dxRef) <= 1e-5, `${label}: dx (k=0)`);
      for (let i = 1; i < inputs.length; i++) t.deepEqual(gOurs[i].shape, inputs[i].shape, `${label}: d${names[i]} shape`);
      return;
    }
    const gRef = tf.grads(ref)(inputs);
    for (let i = 0; i < inputs.length; i++) {
      t.deepEqual(gOurs[i].shape, gRef[i].shape, `${label}: d${names[i]} shape`);
      const err = relErr(gOurs[i], gRef[i]);
      t.true(err <= 1e-5, `${label}: d${names[i]} relative error ${err}`);
    }
  });
}

const cases: Case[] = [
  { n: 24, inF: 32, out: 48, r: 4, withE: true, dropout: false },
  { n: 24, inF: 32, out: 48, r: 4, withE: true, dropout: true },
  { n: 10, inF: 64, out: 16, r: 3, withE: false, dropout: false },
  { n: 10, inF: 64, out: 16, r: 3, withE: false, dropout: true },
  { n: 8, inF: 16, out: 12, r: 0, withE: true, dropout: false },
  { n: 8, inF: 16, out: 12, r: 1, withE: true, dropout: false },
];

for (const backend of ['cpu', 'wasm']) {
  test.serial(`adaptedLinear: value and gradients equal autodiff of the formula (${backend})`, async (t) => {
    for (const c of cases) await checkCase(t, backend, c);
  });

  test.serial(`frozenLinear: value and dx equal autodiff of x·Wᵀ + b (${backend})`, async (t) => {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const { W, b, x, R, weights } = setup({ n: 20, inF: 24, out: 40, r: 1, withE: true, dropout: false }, 5);
      const f = (xx: tf.Tensor) => frozenLinear(xx as tf.Tensor2D, weights).mul(R).sum();
      const g = (xx: tf.Tensor) => tf.matMul(xx as tf.Tensor2D, W, false, true).add(b).mul(R).sum();
      t.true(relErr(f(x), g(x)) <= 1e-5);
      t.true(relErr(tf.grad(f)(x), tf.grad(g)(x)) <= 1e-5);
      // No bias.
      const nb = { ...weights, bias: null };
      t.true(relErr(frozenLinear(x, nb), tf.matMul(x, W, false, true)) <= 1e-5);
    });
  });

  test.serial(`adaptedLinear: repeated gradient steps leave no tensors behind (${backend})`, async (t) => {
    await tf.setBackend(backend);
    const { weights, x, A, E, B, R, W, b, mask } = setup({ n: 12, inF: 16, out: 8, r: 2, withE: true, dropout: false }, 3);
    const vA = tf.variable(A);
    const vE = tf.variable(E);
    const vB = tf.variable(B);
    const step = () =>
      tf.tidy(() => {
        const { grads, value } = tf.variableGrads(() => adaptedLinear(x, weights, { A: vA, E: vE, B: vB, scaling: 2 }, x.mul(mask) as tf.Tensor2D).mul(R).sum() as tf.Scalar, [vA, vE, vB]);
        t.is(Object.keys(grads).length, 3);
        value.dataSync();
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    t.is(tf.memory().numTensors, before);
    tf.dispose([weights.weightT, W, b, x, A, E, B, R, mask, vA, vE, vB]);
  });
}

test('adaptedLinear: shape errors name the argument', (t) => {
  tf.tidy(() => {
    const W = tf.zeros([6, 4]) as tf.Tensor2D;
    const weights = { weight: W, weightT: tf.zeros([4, 6]) as tf.Tensor2D, bias: null };
    const x = tf.zeros([3, 4]) as tf.Tensor2D;
    const ok = { A: tf.zeros([2, 4]) as tf.Tensor2D, E: tf.zeros([2, 1]) as tf.Tensor2D, B: tf.zeros([6, 2]) as tf.Tensor2D, scaling: 1 };
    t.throws(() => adaptedLinear(tf.zeros([3, 5]) as tf.Tensor2D, weights, ok), { message: /x has shape \[3,5\], expected \[N, 4\]/ });
    t.throws(() => adaptedLinear(x, { ...weights, weightT: W }, ok), { message: /weightT has shape \[6,4\], expected \[4, 6\]/ });
    t.throws(() => adaptedLinear(x, weights, { ...ok, A: tf.zeros([2, 5]) as tf.Tensor2D }), { message: /A has shape \[2,5\]/ });
    t.throws(() => adaptedLinear(x, weights, { ...ok, B: tf.zeros([6, 3]) as tf.Tensor2D }), { message: /B has shape \[6,3\], expected \[6, 2\]/ });
    t.throws(() => adaptedLinear(x, weights, { ...ok, E: tf.zeros([3, 1]) as tf.Tensor2D }), { message: /E has shape \[3,1\], expected \[2, 1\]/ });
    t.throws(() => adaptedLinear(x, weights, ok, tf.zeros([2, 4]) as tf.Tensor2D), { message: /xAdapter has shape/ });
  });
});
