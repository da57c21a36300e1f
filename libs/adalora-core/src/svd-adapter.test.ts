import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { LoraAdapter } from './lora-adapter';
import { moduleId } from './module-id';
import { SvdAdapter } from './svd-adapter';
import { adapterKey } from './trainable-key';

const id = moduleId('bert.encoder.layer.0.attention.self.query');
const IN = 6;
const OUT = 5;
const R = 3;

// deterministic pseudo-random values (a 32-bit LCG), so the JS references see the same data
function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

// y[n][o] = s · Σ_i B[o,i] · E[i] · Σ_j A[i,j] · x[n,j] in float64
function referenceDelta(x: Float32Array, n: number, a: Float32Array, e: Float32Array | null, b: Float32Array, r: number, s: number): Float64Array {
  const y = new Float64Array(n * OUT);
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < r; i++) {
      let h = 0;
      for (let j = 0; j < IN; j++) h += a[i * IN + j] * x[row * IN + j];
      h *= e ? e[i] : 1;
      for (let o = 0; o < OUT; o++) y[row * OUT + o] += s * b[o * r + i] * h;
    }
  }
  return y;
}

function close(t: { true: (v: boolean, m?: string) => void }, got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  t.true(got.length === want.length && worst <= tol, `${what}: max abs diff ${worst} > ${tol}`);
}

const loaded = () => {
  const ad = new SvdAdapter({ id, inFeatures: IN, outFeatures: OUT, rank: R, loraAlpha: 8 });
  const A = values(R * IN, 1, 0.5);
  const E = values(R, 2);
  const B = values(OUT * R, 3, 0.5);
  ad.load({ A: { data: A, shape: [R, IN] }, E: { data: E, shape: [R, 1] }, B: { data: B, shape: [OUT, R] } });
  return { ad, A, E, B };
};

for (const backend of ['cpu', 'wasm']) {
  test.serial(`${backend}: init is E = 0, A and B ~ N(0, 0.02²), seeded`, async (t) => {
    await tf.setBackend(backend);
    const opts = { id, inFeatures: 64, outFeatures: 48, rank: 8, loraAlpha: 8, seed: 7 };
    const ad = new SvdAdapter(opts);
    const again = new SvdAdapter(opts);
    const other = new SvdAdapter({ ...opts, seed: 8 });
    t.deepEqual([ad.A.shape, ad.E.shape, ad.B.shape], [[8, 64], [8, 1], [48, 8]]);
    t.true(ad.E.dataSync().every((v) => v === 0));
    for (const v of [ad.A, ad.B]) {
      const d = Array.from(v.dataSync());
      const std = Math.sqrt(d.reduce((s, x) => s + x * x, 0) / d.length);
      t.true(Math.abs(std - 0.02) < 0.002, `std ${std}`);
    }
    t.deepEqual(ad.A.dataSync(), again.A.dataSync());
    t.deepEqual(ad.B.dataSync(), again.B.dataSync());
    t.notDeepEqual(ad.A.dataSync(), other.A.dataSync());
    t.notDeepEqual(ad.A.dataSync().slice(0, 10), ad.B.dataSync().slice(0, 10));
    [ad, again, other].forEach((a) => a.dispose());
  });

  test.serial(`${backend}: delta is ((x · (A ⊙ E)ᵀ) · Bᵀ) · s with s = alpha / (init_r + 1e-5)`, async (t) => {
    await tf.setBackend(backend);
    const { ad, A, E, B } = loaded();
    t.is(ad.scaling, Math.fround(8 / Math.fround(3 + Math.fround(1e-5))));
    const x = values(4 * IN, 4);
    const y = tf.tidy(() => ad.delta(tf.tensor2d(x, [4, IN]), false).dataSync());
    close(t, y, referenceDelta(x, 4, A, E, B, R, 8 / (3 + 1e-5)), 1e-5, 'delta');
    // eval ignores dropout; training with dropout changes the branch
    const drop = new SvdAdapter({ id, inFeatures: IN, outFeatures: OUT, rank: R, loraAlpha: 8, dropout: 0.5 });
    drop.load({ A: ad.A, E: ad.E, B: ad.B });
    const evalY = tf.tidy(() => drop.delta(tf.tensor2d(x, [4, IN]), false).dataSync());
    const trainY = tf.tidy(() => drop.delta(tf.tensor2d(x, [4, IN]), true).dataSync());
    t.deepEqual(evalY, y);
    t.notDeepEqual(trainY, y);
    ad.dispose();
    drop.dispose();
  });

  test.serial(`${backend}: merged weights give the adapter's forward; unmerge restores W`, async (t) => {
    await tf.setBackend(backend);
    const { ad } = loaded();
    const W = tf.tensor2d(values(OUT * IN, 5), [OUT, IN]);
    const x = tf.tensor2d(values(4 * IN, 6), [4, IN]);
    const before = tf.memory().numTensors;
    const [viaAdapter, viaMerged, restored] = tf.tidy(() => {
      const merged = ad.mergeInto(W);
      return [
        tf.matMul(x, W.transpose()).add(ad.delta(x, false)).dataSync(),
        tf.matMul(x, merged.transpose()).dataSync(),
        ad.unmergeFrom(merged).dataSync(),
      ];
    });
    t.is(tf.memory().numTensors, before);
    close(t, viaMerged, viaAdapter, 1e-5, 'merged forward');
    close(t, restored, W.dataSync(), 1e-6, 'unmerged W');
    tf.dispose([W, x]);
    ad.dispose();
  });

  test.serial(`${backend}: resize keeps the marked triplets (= masking the others) and k = 0 works`, async (t) => {
    await tf.setBackend(backend);
    const { ad, A, E, B } = loaded();
    const x = tf.tensor2d(values(3 * IN, 7), [3, IN]);
    const scaling = ad.scaling;
    const masked = Float32Array.from(E, (v, i) => (i === 1 ? 0 : v));
    const want = referenceDelta(x.dataSync() as Float32Array, 3, A, masked, B, R, scaling);
    ad.resize([true, false, true]);
    t.deepEqual([ad.rank, ad.A.shape, ad.E.shape, ad.B.shape], [2, [2, IN], [2, 1], [OUT, 2]]);
    t.is(ad.scaling, scaling);
    t.is(ad.params().get(adapterKey(id, 'lora_A')), ad.A);
    close(t, tf.tidy(() => ad.delta(x, false).dataSync()), want, 1e-5, 'delta after resize');
    ad.resize([false, false]);
    t.deepEqual([ad.rank, ad.A.shape, ad.E.shape, ad.B.shape], [0, [0, IN], [0, 1], [OUT, 0]]);
    const y = tf.tidy(() => ad.delta(x, true));
    t.deepEqual(y.shape, [3, OUT]);
    t.true(y.dataSync().every((v) => v === 0));
    t.true(tf.tidy(() => ad.deltaWeight().dataSync().every((v) => v === 0)));
    y.dispose();
    x.dispose();
    ad.dispose();
  });

  test.serial(`${backend}: gradient of the branch reaches A, E and B`, async (t) => {
    await tf.setBackend(backend);
    const { ad, A, B } = loaded();
    const xs = values(2 * IN, 8);
    const x = tf.tensor2d(xs, [2, IN]);
    const { grads } = tf.variableGrads(() => ad.delta(x, true).sum() as tf.Scalar, [ad.A, ad.E, ad.B]);
    // ∂/∂E_i Σ y = s · Σ_n (x_n · A_i) · Σ_o B[o, i]
    const want = Array.from({ length: R }, (_, i) => {
      let h = 0;
      for (let n = 0; n < 2; n++) for (let j = 0; j < IN; j++) h += xs[n * IN + j] * A[i * IN + j];
      let sb = 0;
      for (let o = 0; o < OUT; o++) sb += B[o * R + i];
      return ad.scaling * h * sb;
    });
    close(t, grads[ad.E.name].dataSync(), want, 1e-5, 'dE');
    t.deepEqual(grads[ad.A.name].shape, [R, IN]);
    t.deepEqual(grads[ad.B.name].shape, [OUT, R]);
    tf.dispose([x, ...Object.values(grads)]);
    ad.dispose();
  });

  test.serial(`${backend}: LoraAdapter: A ~ U(±1/√in), B = 0, s = alpha / r, same forward contract`, async (t) => {
    await tf.setBackend(backend);
    const lora = new LoraAdapter({ id, inFeatures: 64, outFeatures: OUT, rank: 4, loraAlpha: 16, seed: 1 });
    const bound = 1 / 8;
    const a = lora.A.dataSync();
    t.true(a.every((v) => Math.abs(v) <= bound));
    t.true(Math.max(...a) > 0.9 * bound && Math.min(...a) < -0.9 * bound);
    t.true(lora.B.dataSync().every((v) => v === 0));
    t.is(lora.scaling, 4);
    t.deepEqual([...lora.params().keys()], [`${id}.lora_A`, `${id}.lora_B`]);
    lora.dispose();

    const small = new LoraAdapter({ id, inFeatures: IN, outFeatures: OUT, rank: R, loraAlpha: 6 });
    const A = values(R * IN, 11);
    const B = values(OUT * R, 12);
    small.load({ A: { data: A, shape: [R, IN] }, B: { data: B, shape: [OUT, R] } });
    const x = values(3 * IN, 13);
    const y = tf.tidy(() => small.delta(tf.tensor2d(x, [3, IN]), false).dataSync());
    close(t, y, referenceDelta(x, 3, A, null, B, R, 2), 1e-5, 'LoRA delta');
    const W = tf.tensor2d(values(OUT * IN, 14), [OUT, IN]);
    const restored = tf.tidy(() => small.unmergeFrom(small.mergeInto(W)).dataSync());
    close(t, restored, W.dataSync(), 1e-6, 'LoRA unmerge');
    W.dispose();
    small.dispose();
  });
}

test.serial('load refuses shapes that do not fit, naming the tensor', async (t) => {
  await tf.setBackend('cpu');
  const ad = new SvdAdapter({ id, inFeatures: IN, outFeatures: OUT, rank: R, loraAlpha: 8 });
  const good = { A: { data: new Float32Array(2 * IN), shape: [2, IN] }, E: { data: new Float32Array(2), shape: [2, 1] }, B: { data: new Float32Array(OUT * 2), shape: [OUT, 2] } };
  const before = tf.memory().numTensors;
  t.throws(() => ad.load({ ...good, B: { data: new Float32Array(OUT * 3), shape: [OUT, 3] } }), { message: /lora_B has shape \[5, 3\], expected \[5, 2\]/ });
  t.throws(() => ad.load({ ...good, E: { data: new Float32Array(3), shape: [2, 1] } }), { message: /lora_E has 3 values/ });
  t.is(tf.memory().numTensors, before);
  t.is(ad.rank, R);
  ad.load(good); // a saved adapter's smaller rank
  t.is(ad.rank, 2);
  t.throws(() => ad.resize([true]), { message: /resize got 1 flags for rank 2/ });
  t.throws(() => new SvdAdapter({ id, inFeatures: 0, outFeatures: 1, rank: 1, loraAlpha: 1 }), { message: /inFeatures must be an integer >= 1/ });
  ad.dispose();
});

test('the same seed (0 included) gives the same initial adapter; another seed another one', (t) => {
  const make = (seed: number) => new SvdAdapter({ id: moduleId('m.q'), inFeatures: 5, outFeatures: 4, rank: 3, loraAlpha: 8, seed });
  const [a, b, c] = [make(0), make(0), make(1)];
  t.deepEqual(Array.from(a.A.dataSync()), Array.from(b.A.dataSync()));
  t.deepEqual(Array.from(a.B.dataSync()), Array.from(b.B.dataSync()));
  t.notDeepEqual(Array.from(a.A.dataSync()), Array.from(c.A.dataSync()));
  t.notDeepEqual(Array.from(a.A.dataSync()), Array.from(a.B.dataSync()).slice(0, 15), 'A and B use different streams');
  [a, b, c].forEach((x) => x.dispose());
});
