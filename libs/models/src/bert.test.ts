import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bertReferenceBatch, fixturePath, maxAbsError, rawSafetensors, readBertReference, registerBackendSuite } from '@adalora/test-support';
import { disposeEncoderInputs } from '@adalora/training';
import { buildBert } from './bert';
import type { EncoderModel } from './encoder-model';
import { HfConfig } from './hf-config';
import { loadEncoder } from './load-model';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors';
import { WeightStore } from './weights';

registerBackendSuite(test, 'cpu');

function fixtureConfig(modelType: 'bert' | 'roberta', overrides: Record<string, unknown> = {}): HfConfig {
  const file = fixturePath(modelType, 'config.json');
  const cfg = HfConfig.parse(readFileSync(file, 'utf8'), file);
  return new HfConfig({ ...cfg.raw, ...overrides }, file);
}

function fixtureWeights(modelType: 'bert' | 'roberta'): Map<string, SafeTensor> {
  return readSafetensors(fixturePath(modelType, 'model.safetensors'));
}

function build(modelType: 'bert' | 'roberta', overrides: Record<string, unknown> = {}): EncoderModel {
  return buildBert(fixtureConfig(modelType, overrides), new WeightStore(fixtureWeights(modelType), 'fixture'), modelType);
}

function forwardData(model: EncoderModel, modelType: 'bert' | 'roberta', training = false): { hidden: Float32Array; logits: Float32Array } {
  const batch = bertReferenceBatch(modelType);
  const out = model.forward(batch, training);
  const res = { hidden: out.lastHiddenState.dataSync() as Float32Array, logits: out.logits.dataSync() as Float32Array };
  out.lastHiddenState.dispose();
  out.logits.dispose();
  disposeEncoderInputs(batch);
  return res;
}

test.serial('linears are keyed by the HF module path peft uses; head params by HF weight name', (t) => {
  const bert = build('bert');
  const perLayer = ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'intermediate.dense', 'output.dense'];
  const expected = [0, 1].flatMap((i) => perLayer.map((m) => `bert.encoder.layer.${i}.${m}`));
  t.deepEqual([...bert.linears.keys()].sort(), [...expected, 'bert.pooler.dense'].sort());
  t.deepEqual([...bert.headParams.keys()], ['classifier.weight', 'classifier.bias']);
  t.true([...bert.headParams.values()].every((v) => v.trainable));
  const inter = bert.linears.get('bert.encoder.layer.1.intermediate.dense' as never)!;
  t.deepEqual([inter.inFeatures, inter.outFeatures], [32, 64]);
  t.is(bert.numLabels, 3);
  t.is(bert.hiddenSize, 32);
  bert.dispose();

  const roberta = build('roberta');
  t.deepEqual([...roberta.linears.keys()].sort(), [0, 1].flatMap((i) => perLayer.map((m) => `roberta.encoder.layer.${i}.${m}`)).sort());
  t.deepEqual([...roberta.headParams.keys()], ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias']);
  roberta.dispose();
});

test.serial('roberta positions come from the ids (padding_idx + count of non-pad ids), not the slot', (t) => {
  // Left padding moves the tokens to later slots but not to later positions: HF counts only
  // non-pad ids, so the tokens' hidden states equal those of the unpadded row.
  const model = build('roberta');
  const tokens = readBertReference('roberta').input_ids[3].slice(0, 6);
  const hidden = (row: number[], mask: number[]): Float32Array => {
    const batch = { inputIds: tf.tensor2d([row], undefined, 'int32'), attentionMask: tf.tensor2d([mask], undefined, 'int32') };
    const out = model.forward(batch, false);
    const h = out.lastHiddenState.dataSync() as Float32Array; // (1, S, 32)
    out.lastHiddenState.dispose();
    out.logits.dispose();
    disposeEncoderInputs(batch);
    return h;
  };
  const plain = hidden(tokens, [1, 1, 1, 1, 1, 1]);
  const left = hidden([1, 1, 1, ...tokens], [0, 0, 0, 1, 1, 1, 1, 1, 1]).subarray(3 * 32);
  t.is(left.length, plain.length);
  const err = Math.max(...plain.map((v, i) => Math.abs(v - left[i])));
  t.true(err < 1e-5, `max error ${err}`);
  model.dispose();
});

test.serial('dropout is active only in training, and eval ignores the configured rates', (t) => {
  const model = build('bert', { hidden_dropout_prob: 0.3, attention_probs_dropout_prob: 0.3 });
  const ref = readBertReference('bert');
  const ev = forwardData(model, 'bert', false);
  t.true(maxAbsError(tf.tensor(ev.logits), ref.logits) < 1e-5);
  const a = forwardData(model, 'bert', true);
  const b = forwardData(model, 'bert', true);
  const diff = (x: Float32Array, y: Float32Array): number => Math.max(...x.map((v, i) => Math.abs(v - y[i])));
  t.true(diff(a.hidden, ev.hidden) > 1e-3, 'training output differs from eval');
  t.true(diff(a.hidden, b.hidden) > 1e-3, 'two training passes draw different masks');
  t.true(a.hidden.every(Number.isFinite));
  model.dispose();

  // With rate 0 (the fixtures' config) training is the eval computation.
  const plain = build('bert');
  const tr = forwardData(plain, 'bert', true);
  t.true(maxAbsError(tf.tensor(tr.logits), ref.logits) < 1e-5);
  plain.dispose();
});

test.serial('forward refuses malformed batches with a message naming the field', (t) => {
  const model = build('bert');
  const ids = tf.tensor2d([[1, 2, 3]], undefined, 'int32');
  const mask = tf.tensor2d([[1, 1, 1]], undefined, 'int32');
  t.throws(() => model.forward({ inputIds: ids.toFloat() as tf.Tensor2D, attentionMask: mask }, false), { message: /inputIds must be int32/ });
  t.throws(() => model.forward({ inputIds: ids, attentionMask: tf.tensor2d([[1, 1]], undefined, 'int32') }, false), { message: /attentionMask must be int32 \[1, 3\]/ });
  t.throws(() => model.forward({ inputIds: tf.tensor2d([[1, 100]], undefined, 'int32'), attentionMask: tf.tensor2d([[1, 1]], undefined, 'int32') }, false), { message: /inputIds holds 100, outside \[0, 100\) \(vocab_size\)/ });
  t.throws(() => model.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: tf.tensor2d([[0, 2, 0]], undefined, 'int32') }, false), { message: /tokenTypeIds holds 2/ });
  const long = tf.zeros([1, 65], 'int32') as tf.Tensor2D;
  t.throws(() => model.forward({ inputIds: long, attentionMask: long }, false), { message: /sequence length 65 exceeds the 64 positions/ });
  model.dispose();
  const roberta = build('roberta'); // 66 positions, pad 1: 64 tokens at most
  const r = tf.ones([1, 65], 'int32') as tf.Tensor2D;
  t.throws(() => roberta.forward({ inputIds: r, attentionMask: r }, false), { message: /sequence length 65 exceeds the 64 positions/ });
  roberta.dispose();
});

test.serial('config faults are named: heads not dividing hidden, relative positions, bad activation', (t) => {
  t.throws(() => build('bert', { num_attention_heads: 5 }), { message: /hidden_size 32 is not a multiple of num_attention_heads 5/ });
  t.throws(() => build('bert', { position_embedding_type: 'relative_key' }), { message: /position_embedding_type 'relative_key' is not supported/ });
  t.throws(() => build('bert', { hidden_act: 'swish' }), { message: /hidden_act 'swish' is not supported/ });
  t.throws(() => build('bert', { hidden_size: 'big' }), { message: /field 'hidden_size' must be a number/ });
});

test.serial('a failed build frees what it had taken', (t) => {
  const before = tf.memory().numTensors;
  const tensors = fixtureWeights('bert');
  tensors.delete('bert.encoder.layer.1.output.dense.weight');
  t.throws(() => buildBert(fixtureConfig('bert'), new WeightStore(tensors, 'fixture'), 'bert'), { message: /missing weight 'bert\.encoder\.layer\.1\.output\.dense\.weight'/ });
  t.is(tf.memory().numTensors, before);
});

test.serial('a bare BertModel checkpoint (no `bert.` prefix) loads; a missing head needs a seed', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bare-bert-'));
  try {
    const ref = readBertReference('bert');
    writeFileSync(path.join(dir, 'config.json'), readFileSync(fixturePath('bert', 'config.json')));
    const bare = new Map([...fixtureWeights('bert')].map(([n, v]) => [n.replace(/^bert\./, ''), v]));
    writeSafetensors(path.join(dir, 'model.safetensors'), bare);
    const withHead = await loadEncoder(dir);
    t.true(maxAbsError(tf.tensor(forwardData(withHead.model, 'bert').logits), ref.logits) < 1e-5);
    t.is(withHead.model.linears.has('bert.pooler.dense' as never), true, 'module ids keep the prefix');
    withHead.model.dispose();

    bare.delete('classifier.weight');
    bare.delete('classifier.bias');
    writeSafetensors(path.join(dir, 'model.safetensors'), bare);
    await t.throwsAsync(loadEncoder(dir), { message: /missing weight 'classifier\.weight' \(a checkpoint without a classification head needs an init seed/ });
    const a = await loadEncoder(dir, { headSeed: 42, numLabels: 5 });
    t.deepEqual(a.initialisedWeights, ['classifier.weight', 'classifier.bias']);
    t.is(a.model.numLabels, 5);
    const out = forwardData(a.model, 'bert');
    t.true(maxAbsError(tf.tensor(out.hidden), ref.last_hidden_state) < 1e-4, 'the encoder is untouched');
    const w = a.model.headParams.get('classifier.weight')!;
    t.deepEqual(w.shape, [5, 32]);
    const values = [...w.dataSync()];
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    t.true(std > 0.015 && std < 0.025, `initializer_range 0.02, got std ${std}`);
    t.true(a.model.headParams.get('classifier.bias')!.dataSync().every((v) => v === 0));
    const b = await loadEncoder(dir, { headSeed: 42, numLabels: 5 });
    t.deepEqual([...b.model.headParams.get('classifier.weight')!.dataSync()], values, 'same seed, same head');
    const c = await loadEncoder(dir, { headSeed: 43, numLabels: 5 });
    t.notDeepEqual([...c.model.headParams.get('classifier.weight')!.dataSync()], values);
    [a, b, c].forEach((l) => l.model.dispose());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('legacy names load: LayerNorm gamma/beta, an int64 position_ids buffer, an MLM head', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'legacy-bert-'));
  try {
    writeFileSync(path.join(dir, 'config.json'), readFileSync(fixturePath('bert', 'config.json')));
    const entries = [...fixtureWeights('bert')].map(([n, v]) => ({
      name: n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'),
      dtype: 'F32',
      shape: v.shape,
      bytes: new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength),
    }));
    const positions = new BigInt64Array(64).map((_, i) => BigInt(i));
    entries.push({ name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, 64], bytes: new Uint8Array(positions.buffer) });
    entries.push({ name: 'cls.predictions.bias', dtype: 'F32', shape: [2], bytes: new Uint8Array(8) });
    writeFileSync(path.join(dir, 'model.safetensors'), rawSafetensors(entries));
    const loaded = await loadEncoder(dir);
    t.true(maxAbsError(tf.tensor(forwardData(loaded.model, 'bert').logits), readBertReference('bert').logits) < 1e-5);
    t.deepEqual(loaded.unusedWeights, ['cls.predictions.bias']);
    loaded.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
