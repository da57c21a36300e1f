import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { moduleId } from '@adalora/core';
import { disentangledSelfAttention, type DisentangledAttentionParams } from './deberta-v2-attention';
import { Linear, type LinearAdapter } from './linear';

// On wasm the attention's batched products run as plain 2-D matmuls (matMulPerBatch); these
// tests hold that path to tf.matMul's, and check the masking on wasm.
test.before(async () => {
  await tf.setBackend('wasm');
});

const B = 3, L = 10, HIDDEN = 128, HEADS = 2; // head size 64: past the wasm naive kernel's 48-wide block
const LENGTHS = [10, 7, 2]; // real tokens per sequence; the rest is padding

/** An adapter branch x·M whose M the test sets, so gradients reach the position projections. */
class Probe implements LinearAdapter {
  m: tf.Tensor | null = null;
  delta(x: tf.Tensor): tf.Tensor {
    return tf.matMul(x, this.m!);
  }
}

// Separate position projections (share_att_key false), each with a probe; log buckets with L past
// the exact range (±4) and past the span (8), so clamped and bucketed rows are both read.
function setup(dropout: number) {
  const lin = (name: string, seed: number) =>
    new Linear(moduleId(`attention.self.${name}`), tf.randomNormal([HIDDEN, HIDDEN], 0, 0.1, 'float32', seed) as tf.Tensor2D, tf.randomNormal([HIDDEN], 0, 0.1, 'float32', seed + 50) as tf.Tensor1D);
  const posKey = lin('pos_key_proj', 4);
  const posQuery = lin('pos_query_proj', 5);
  const probes = [new Probe(), new Probe()];
  posKey.adapter = probes[0];
  posQuery.adapter = probes[1];
  const params: DisentangledAttentionParams = {
    query: lin('query_proj', 1),
    key: lin('key_proj', 2),
    value: lin('value_proj', 3),
    posKey,
    posQuery,
    numHeads: HEADS,
    headSize: HIDDEN / HEADS,
    posAtt: { c2p: true, p2c: true },
    relative: { buckets: 8, maxRelative: 16, span: 8 },
    attentionDropout: dropout,
    posDropout: dropout,
  };
  const maskF = tf.tensor2d(LENGTHS.map((n) => Array.from({ length: L }, (_, i) => (i < n ? 1 : 0))));
  const mask = maskF.reshape([1, B, L, 1]).mul(maskF.reshape([1, B, 1, L])).greater(0) as tf.Tensor4D; // (1, B, L, L), as the encoder builds it
  const x = tf.randomNormal([B, L, HIDDEN], 0, 1, 'float32', 6) as tf.Tensor3D;
  const relEmb = tf.randomNormal([16, HIDDEN], 0, 1, 'float32', 7) as tf.Tensor2D;
  const ms = [tf.randomNormal([HIDDEN, HIDDEN], 0, 0.05, 'float32', 8), tf.randomNormal([HIDDEN, HIDDEN], 0, 0.05, 'float32', 9)];
  const r = tf.randomNormal([B, L, HIDDEN], 0, 1, 'float32', 10); // dL/dcontext, so it is not all ones
  const linears = [params.query, params.key, params.value, posKey, posQuery];
  const dispose = () => {
    linears.forEach((l) => l.dispose());
    tf.dispose([maskF, mask, x, relEmb, ...ms, r]);
  };
  return { params, probes, mask, x, relEmb, ms, r, dispose };
}

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0] / Math.max(b.abs().max().dataSync()[0], 1e-30));
}

// tf.dropout draws its seed from Math.random: a fixed sequence gives both paths the same masks.
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

for (const rate of [0, 0.2]) {
  test.serial(`wasm, dropout ${rate}: per-batch products give tf.matMul's context and gradients (x, position projections)`, (t) => {
    t.is(tf.getBackend(), 'wasm');
    const s = setup(rate);
    tf.tidy(() => {
      const run = (perBatch: boolean) =>
        withFixedRandom(() =>
          tf.valueAndGrads((x: tf.Tensor, mk: tf.Tensor, mq: tf.Tensor) => {
            [s.probes[0].m, s.probes[1].m] = [mk, mq];
            return disentangledSelfAttention(s.params, x as tf.Tensor3D, s.relEmb, s.mask, true, perBatch).mul(s.r).sum();
          })([s.x, ...s.ms]),
        );
      const ctx = (perBatch: boolean) => {
        [s.probes[0].m, s.probes[1].m] = s.ms;
        return withFixedRandom(() => disentangledSelfAttention(s.params, s.x, s.relEmb, s.mask, true, perBatch));
      };
      const [ours, ref] = [run(true), run(false)];
      // (the scalar loss is left out: a sum of ± terms, its relative error is cancellation, not the path)
      const errs = [relErr(ctx(true), ctx(false)), ...ours.grads.map((g, i) => relErr(g, ref.grads[i]))];
      t.log(`dropout ${rate}: relative error of context, d/dx, d/dM(pos key), d/dM(pos query): ${errs.map((e) => e.toExponential(1)).join(', ')}`);
      for (const e of errs) t.true(e < 1e-5, `relative error ${e}`);
      for (const g of ours.grads) t.true(g.abs().max().dataSync()[0] > 0, 'gradient must reach every input');
      if (rate > 0) t.true(relErr(ctx(true), disentangledSelfAttention(s.params, s.x, s.relEmb, s.mask, false, true)) > 1e-2, 'dropout must change the context');
    });
    s.dispose();
  });
}

test.serial('wasm: a padded query row (every key masked) attends uniformly, as HF; real rows ignore padding keys', (t) => {
  const s = setup(0);
  [s.probes[0].m, s.probes[1].m] = s.ms;
  tf.tidy(() => {
    const ctx = disentangledSelfAttention(s.params, s.x, s.relEmb, s.mask, false);
    const v = s.params.value.apply(s.x); // (B, L, hidden): heads are column blocks, so per-head means are column means
    // sequence 3 (2 real tokens): padded rows get the mean of all L values
    const padded = ctx.slice([2, 2, 0], [1, L - 2, HIDDEN]);
    t.true(relErr(padded, v.slice([2, 0, 0], [1, L, HIDDEN]).mean(1, true).tile([1, L - 2, 1])) < 1e-5);
    // changing padding tokens' inputs leaves the real rows of that sequence unchanged
    const noise = tf.concat([tf.zeros([1, 2, HIDDEN]), tf.randomNormal([1, L - 2, HIDDEN], 0, 1, 'float32', 11)], 1);
    const x2 = s.x.add(tf.concat([tf.zeros([2, L, HIDDEN]), noise])) as tf.Tensor3D;
    const ctx2 = disentangledSelfAttention(s.params, x2, s.relEmb, s.mask, false);
    t.true(relErr(ctx2.slice([2, 0, 0], [1, 2, HIDDEN]), ctx.slice([2, 0, 0], [1, 2, HIDDEN])) < 1e-6);
    t.true(tf.all(tf.isFinite(ctx)).dataSync()[0] === 1);
  });
  s.dispose();
});

test.serial('wasm: repeated forward and backward leave numTensors flat', (t) => {
  const s = setup(0.1);
  const step = () =>
    tf.tidy(() =>
      tf.grads((x: tf.Tensor, mk: tf.Tensor, mq: tf.Tensor) => {
        [s.probes[0].m, s.probes[1].m] = [mk, mq];
        return disentangledSelfAttention(s.params, x as tf.Tensor3D, s.relEmb, s.mask, true).mul(s.r).sum();
      })([s.x, ...s.ms]).forEach((g) => g.dataSync()),
    );
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  t.is(tf.memory().numTensors, before);
  s.dispose();
});
