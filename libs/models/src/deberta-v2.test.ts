import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import {
  debertaAdapterTensors,
  debertaFixtureTensors,
  debertaGradientCheck,
  debertaReferenceBatch,
  loadDebertaFixtureModel,
  maxAbsDiff,
  readDebertaReference,
  tensorCountsOverForwards,
} from '@adalora/test-support';
import type { SafeTensor } from './safetensors';

// The same checks on wasm are in deberta-v2.wasm.test.ts (one backend per process).
test.before(async () => {
  await tf.setBackend('cpu');
});

const ref = readDebertaReference();

test.serial('reproduces HF last_hidden_state (1e-4) and logits (1e-5), padded rows included', (t) => {
  const model = loadDebertaFixtureModel();
  const batch = debertaReferenceBatch(ref);
  const out = model.forward(batch, false);
  const hidden = maxAbsDiff(out.lastHiddenState, ref.last_hidden_state);
  const logits = maxAbsDiff(out.logits, ref.logits);
  t.log(`cpu: max |Δ| last_hidden_state ${hidden.toExponential(2)}, logits ${logits.toExponential(2)}`);
  t.true(hidden <= 1e-4, `last_hidden_state off by ${hidden}`);
  t.true(logits <= 1e-5, `logits off by ${logits}`);
  tf.dispose([out.lastHiddenState, out.logits, batch.inputIds, batch.attentionMask]);
  model.dispose();
});

test.serial('every linear is registered under its HF module path; only the classifier trains', (t) => {
  const model = loadDebertaFixtureModel();
  const perLayer = ['attention.self.query_proj', 'attention.self.key_proj', 'attention.self.value_proj', 'attention.output.dense', 'intermediate.dense', 'output.dense'];
  const want = [0, 1].flatMap((i) => perLayer.map((m) => `deberta.encoder.layer.${i}.${m}`)).concat('pooler.dense');
  t.deepEqual([...model.linears.keys()].sort(), want.sort());
  t.deepEqual([...model.headParams.keys()], ['classifier.weight', 'classifier.bias']);
  t.true([...model.headParams.values()].every((v) => v.trainable));
  t.deepEqual(model.headParams.get('classifier.weight')!.shape, [3, 32]);
  t.is(model.modelType, 'deberta-v2');
  t.is(model.numLabels, 3);
  model.dispose();
});

test.serial('gradients through the disentangled attention match finite differences', (t) => {
  const model = loadDebertaFixtureModel();
  const batch = debertaReferenceBatch(ref);
  const { worstRelError, leakedTensors, gradNorm } = debertaGradientCheck(model, batch);
  t.log(`cpu: worst relative error of directional derivatives ${worstRelError.toExponential(2)}`);
  t.true(gradNorm > 0);
  t.true(worstRelError < 2e-2, `relative error ${worstRelError}`);
  t.is(leakedTensors, 0);
  tf.dispose([batch.inputIds, batch.attentionMask]);
  model.dispose();
});

// peft wraps query_proj/key_proj, so with shared keys the relative-position projections carry
// the adapter too; reproducing adalora_logits checks that they go through the same Linear.
test.serial('AdaLoRA branches on the linears (plain x·(A⊙E)ᵀ·Bᵀ·s adapters) reproduce peft adalora_logits', (t) => {
  const model = loadDebertaFixtureModel();
  const adapter = debertaAdapterTensors();
  const tensor = (name: string) => {
    const st = adapter.get(`base_model.model.${name}`)!;
    return tf.tensor(st.data, [...st.shape]);
  };
  const scaling = 8 / 4; // lora_alpha / init_r
  const owned: tf.Tensor[] = [];
  let attached = 0;
  for (const [id, linear] of model.linears) {
    if (!adapter.has(`base_model.model.${id}.lora_A`)) continue;
    const [A, E, B] = ['lora_A', 'lora_E', 'lora_B'].map((n) => tensor(`${id}.${n}`));
    const down = A.mul(E).transpose(); // (A ⊙ E)ᵀ [in, r]
    const up = B.transpose().mul(scaling); // Bᵀ·s [r, out]
    owned.push(A, E, B, down, up);
    linear.adapter = { delta: (x) => tf.matMul(tf.matMul(x, down), up) };
    attached++;
  }
  t.is(attached, 12);
  for (const name of ['classifier.weight', 'classifier.bias']) {
    const v = tensor(name);
    model.headParams.get(name)!.assign(v);
    v.dispose();
  }
  const batch = debertaReferenceBatch(ref);
  const out = model.forward(batch, false);
  const err = maxAbsDiff(out.logits, ref.adalora_logits);
  t.log(`cpu: max |Δ| adalora_logits ${err.toExponential(2)}`);
  t.true(err <= 1e-5, `adalora_logits off by ${err}`);
  // This fixture's adapters move the logits only ~3e-7 through the position projections, so
  // that path is checked at float32 rounding level (cpu: ~3e-9 here).
  t.true(err <= 5e-8, `adalora_logits off by ${err}: are the position projections missing the adapter?`);
  tf.dispose([...owned, out.lastHiddenState, out.logits, batch.inputIds, batch.attentionMask]);
  model.dispose();
});

test.serial('repeated forwards keep tf.memory().numTensors flat; dispose frees the model', (t) => {
  const start = tf.memory().numTensors;
  const model = loadDebertaFixtureModel();
  const batch = debertaReferenceBatch(ref);
  const counts = tensorCountsOverForwards(model, batch, 4);
  t.deepEqual(counts, [counts[0], counts[0], counts[0], counts[0]]);
  tf.dispose([batch.inputIds, batch.attentionMask]);
  model.dispose();
  t.is(tf.memory().numTensors, start);
});

test.serial('separate position projections (share_att_key false) holding copies of query/key give the same outputs', (t) => {
  const tensors = debertaFixtureTensors();
  for (const i of [0, 1]) {
    const self = `deberta.encoder.layer.${i}.attention.self`;
    for (const [from, to] of [['key_proj', 'pos_key_proj'], ['query_proj', 'pos_query_proj']]) {
      for (const p of ['weight', 'bias']) tensors.set(`${self}.${to}.${p}`, tensors.get(`${self}.${from}.${p}`)!);
    }
  }
  const model = loadDebertaFixtureModel({ share_att_key: false }, tensors);
  t.true(model.linears.has('deberta.encoder.layer.1.attention.self.pos_query_proj' as never));
  const batch = debertaReferenceBatch(ref);
  const out = model.forward(batch, false);
  t.true(maxAbsDiff(out.lastHiddenState, ref.last_hidden_state) <= 1e-4);
  t.true(maxAbsDiff(out.logits, ref.logits) <= 1e-5);
  tf.dispose([out.lastHiddenState, out.logits, batch.inputIds, batch.attentionMask]);
  model.dispose();
});

test.serial('a checkpoint without the deberta. prefix (bare DebertaV2Model names) loads the same model', (t) => {
  const bare = new Map<string, SafeTensor>([...debertaFixtureTensors()].map(([k, v]) => [k.replace(/^deberta\./, ''), v]));
  const model = loadDebertaFixtureModel({}, bare);
  t.true(model.linears.has('deberta.encoder.layer.0.attention.self.query_proj' as never));
  const batch = debertaReferenceBatch(ref);
  const out = model.forward(batch, false);
  t.true(maxAbsDiff(out.logits, ref.logits) <= 1e-5);
  tf.dispose([out.lastHiddenState, out.logits, batch.inputIds, batch.attentionMask]);
  model.dispose();
});

test.serial('options the model cannot reproduce fail with the field named', (t) => {
  const start = tf.memory().numTensors;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ pos_att_type: ['p2c', 'p2p'] }, /field 'pos_att_type' contains 'p2p'/],
    [{ pos_att_type: 'c2p|x2y' }, /field 'pos_att_type' contains 'x2y'/],
    [{ conv_kernel_size: 3, conv_groups: 2 }, /field 'conv_groups'/],
    [{ conv_kernel_size: 4 }, /field 'conv_kernel_size' must be odd/],
    [{ hidden_act: 'swish_beta' }, /field 'hidden_act'/],
    [{ pooler_hidden_act: 'nope' }, /field 'pooler_hidden_act'/],
    [{ num_attention_heads: 5 }, /field 'num_attention_heads' \(5\) must divide hidden_size/],
    [{ pooler_hidden_size: 16 }, /field 'pooler_hidden_size'/],
    [{ norm_rel_ebd: 'layer_norm|batch_norm' }, /field 'norm_rel_ebd' contains 'batch_norm'/],
    [{ hidden_dropout_prob: 1.5 }, /field 'hidden_dropout_prob'/],
    // a config that disagrees with the checkpoint: the weight and both shapes are named
    [{ position_buckets: 8 }, /'deberta.encoder.rel_embeddings.weight' has shape \[32,32\], expected \[16,32\]/],
  ];
  for (const [overrides, message] of cases) t.throws(() => loadDebertaFixtureModel(overrides), { message }, JSON.stringify(overrides));
  t.is(tf.memory().numTensors, start, 'a failed build frees what it had taken');
});
