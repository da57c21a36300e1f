import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { additiveAttentionMask, multiHeadAttention } from './attention';

// The implementation before matMulPerBatch, differentiated by tfjs autodiff: rank-4 products.
function reference(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, maskAdd: tf.Tensor4D, numHeads: number, rate: number, training: boolean): tf.Tensor {
  const [b, s, h] = q.shape;
  const d = h / numHeads;
  const qh = q.reshape([b, s, numHeads, d]).transpose([0, 2, 1, 3]);
  const kt = k.reshape([b, s, numHeads, d]).transpose([0, 2, 3, 1]);
  const vh = v.reshape([b, s, numHeads, d]).transpose([0, 2, 1, 3]);
  const scores = tf.matMul(qh, kt).mul(d ** -0.5).add(maskAdd);
  const p = tf.softmax(scores, -1);
  const probs = training && rate > 0 ? tf.dropout(p, rate) : p;
  return tf.matMul(probs, vh).transpose([0, 2, 1, 3]).reshape([b, s, h]);
}

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0] / Math.max(b.abs().max().dataSync()[0], 1e-30));
}

// tf.dropout draws its seed from Math.random: a fixed sequence gives both paths the same mask.
function withFixedRandom<T>(f: () => T): T {
  const saved = Math.random;
  let s = 12345;
  Math.random = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  try {
    return f();
  } finally {
    Math.random = saved;
  }
}

const B = 3, S = 6, H = 128, HEADS = 2; // head size 64: past the wasm naive kernel's 48-wide block, so sums round differently

function inputs() {
  const rnd = (k: number) => tf.randomNormal([B, S, H], 0, 1, 'float32', k);
  // the second sequence has 2 padding tokens, the third 5: their keys get float32 min
  const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0]], [B, S], 'int32');
  return { q: rnd(1), k: rnd(2), v: rnd(3), r: rnd(4), maskAdd: additiveAttentionMask(mask) };
}

for (const backend of ['cpu', 'wasm']) {
  for (const rate of [0, 0.3]) {
    test.serial(`multiHeadAttention on ${backend}, per-batch products, dropout ${rate}: context and d/dq, d/dk, d/dv match the plain formulation`, async (t) => {
      await tf.setBackend(backend);
      tf.tidy(() => {
        const { q, k, v, r, maskAdd } = inputs();
        const run = (f: (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor) =>
          withFixedRandom(() => tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c).mul(r).sum())([q, k, v]));
        const ours = run((a, b, c) => multiHeadAttention(a, b, c, maskAdd, HEADS, rate, true, true));
        const ref = run((a, b, c) => reference(a, b, c, maskAdd, HEADS, rate, true));
        const ctx = [withFixedRandom(() => multiHeadAttention(q, k, v, maskAdd, HEADS, rate, true, true)), withFixedRandom(() => reference(q, k, v, maskAdd, HEADS, rate, true))];
        const errs = [relErr(ctx[0], ctx[1]), ...ours.grads.map((g, i) => relErr(g, ref.grads[i]))];
        t.log(`${backend}, dropout ${rate}: relative error of context, dq, dk, dv: ${errs.map((e) => e.toExponential(1)).join(', ')}`);
        for (const e of errs) t.true(e < 1e-5, `relative error ${e}`);
        if (rate > 0) t.true(relErr(ctx[0], multiHeadAttention(q, k, v, maskAdd, HEADS, 0, false, true)) > 1e-2, 'dropout must change the context');
      });
    });
  }

  test.serial(`multiHeadAttention on ${backend}: padding keys get no weight, padded query rows stay finite`, async (t) => {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const { q, k, v, maskAdd } = inputs();
      const ctx = multiHeadAttention(q, k, v, maskAdd, HEADS, 0, false, true);
      // the third sequence has one real token: every query row's context is that token's v
      const single = v.slice([2, 0, 0], [1, 1, H]).tile([1, S, 1]);
      t.true(relErr(ctx.slice([2, 0, 0], [1, S, H]), single) < 1e-6);
      t.true(tf.all(tf.isFinite(ctx)).dataSync()[0] === 1);
    });
  });

  test.serial(`multiHeadAttention on ${backend}: repeated forward and backward leave numTensors flat`, async (t) => {
    await tf.setBackend(backend);
    const { q, k, v, r, maskAdd } = inputs();
    const step = () => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => multiHeadAttention(a, b, c, maskAdd, HEADS, 0.1, true).mul(r).sum())([q, k, v]).forEach((g) => g.dataSync()));
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    t.is(tf.memory().numTensors, before);
    tf.dispose([q, k, v, r, maskAdd]);
  });
}
