import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAdaLoraConfig } from '@adalora/config';
import { fixturePath, maxAbsError } from '@adalora/test-support';
import type { EncoderInputs, QaModel } from './encoder-model';
import { injectAdapters } from './inject-adapters';
import { loadEncoder, loadQaModel } from './load-model';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors';

interface Reference {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  last_hidden_state: number[][][];
}
type Kind = 'bert' | 'roberta' | 'deberta-v2';
const kinds: Kind[] = ['bert', 'roberta', 'deberta-v2'];
const H = 32; // the fixtures' hidden size
const readReference = (kind: Kind): Reference => JSON.parse(readFileSync(fixturePath(kind, 'reference.json'), 'utf8')) as Reference;

// The batch HF was fed (token type ids for BERT only).
function batchOf(kind: Kind, ref: Reference): EncoderInputs {
  return {
    inputIds: tf.tensor2d(ref.input_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(ref.attention_mask, undefined, 'int32'),
    tokenTypeIds: kind === 'bert' ? tf.tensor2d(ref.token_type_ids, undefined, 'int32') : undefined,
  };
}
const disposeBatch = (b: EncoderInputs) => [b.inputIds, b.attentionMask, b.tokenTypeIds].forEach((t) => t?.dispose());

// A `*ForQuestionAnswering` checkpoint as HF saves one: the fixture's encoder weights (no pooler,
// no classifier) plus qa_outputs, beside the fixture's config.
function qaCheckpoint(t: { teardown(fn: () => void): void }, kind: Kind, head: Map<string, SafeTensor>): string {
  const dir = mkdtempSync(path.join(tmpdir(), `qa-${kind}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(fixturePath(kind, 'config.json'), path.join(dir, 'config.json'));
  const tensors = new Map([...readSafetensors(fixturePath(kind, 'model.safetensors'))].filter(([n]) => !/^(pooler|classifier)\.|\.pooler\./.test(n)));
  for (const [n, v] of head) tensors.set(n, v);
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

// Values in [-0.5, 0.5) from a small LCG: the head's numbers only need to be arbitrary.
function uniforms(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function randomHead(seed: number): { w: Float32Array; b: Float32Array; tensors: Map<string, SafeTensor> } {
  const next = uniforms(seed);
  const w = Float32Array.from({ length: 2 * H }, () => next() - 0.5);
  const b = Float32Array.from([next() - 0.5, next() - 0.5]);
  return { w, b, tensors: new Map([['qa_outputs.weight', { shape: [2, H], data: w }], ['qa_outputs.bias', { shape: [2], data: b }]]) };
}

for (const kind of kinds) {
  test.serial(`${kind}: start/end logits are HF's last_hidden_state times qa_outputs, split on the last dim`, async (t) => {
    const head = randomHead(kinds.indexOf(kind) + 1);
    const loaded = await loadQaModel(qaCheckpoint(t, kind, head.tensors));
    const model: QaModel = loaded.model;
    t.deepEqual(loaded.unusedWeights, []);
    t.deepEqual(loaded.initialisedWeights, []);
    t.deepEqual([...model.headParams.keys()], ['qa_outputs.weight', 'qa_outputs.bias']);
    t.false([...model.linears.keys()].some((id) => id.includes('pooler')), 'a QA model has no pooler');
    const ref = readReference(kind);
    const batch = batchOf(kind, ref);
    const out = model.forward(batch, false);
    // by hand from HF's hidden states: logit_k[b, s] = Σ_h hidden[b, s, h] · W[k, h] + bias[k]
    const by = (k: number) => ref.last_hidden_state.map((row) => row.map((hs) => hs.reduce((acc, x, h) => acc + x * head.w[k * H + h], head.b[k])));
    t.deepEqual(out.startLogits.shape, [ref.input_ids.length, ref.input_ids[0].length]);
    const errs = [maxAbsError(out.lastHiddenState, ref.last_hidden_state), maxAbsError(out.startLogits, by(0)), maxAbsError(out.endLogits, by(1))];
    t.log(`max |Δ| hidden, start, end: ${errs.map((e) => e.toExponential(2)).join(', ')}`);
    t.true(errs.every((e) => e < 1e-5), errs.join());
    [out.lastHiddenState, out.startLogits, out.endLogits].forEach((x) => x.dispose());
    disposeBatch(batch);
    model.dispose();
  });
}

test.serial('a classification checkpoint loads for QA: pooler and classifier unused, qa_outputs created only with a seed', async (t) => {
  await t.throwsAsync(loadQaModel(fixturePath('bert')), { message: /missing weight 'qa_outputs\.weight'/ });
  const a = await loadQaModel(fixturePath('bert'), { headSeed: 5 });
  const b = await loadQaModel(fixturePath('bert'), { headSeed: 5 });
  t.deepEqual(a.initialisedWeights, ['qa_outputs.weight', 'qa_outputs.bias']);
  t.deepEqual([...a.unusedWeights].sort(), ['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'classifier.bias', 'classifier.weight']);
  t.deepEqual(a.model.headParams.get('qa_outputs.weight')!.dataSync(), b.model.headParams.get('qa_outputs.weight')!.dataSync());
  t.deepEqual([...a.model.headParams.get('qa_outputs.bias')!.dataSync()], [0, 0]);
  // the classification model of the same checkpoint is unchanged by the QA path
  const cls = await loadEncoder(fixturePath('bert'));
  t.deepEqual(cls.unusedWeights, []);
  t.true([...cls.model.linears.keys()].includes('bert.pooler.dense' as never));
  [a, b, cls].forEach((l) => l.model.dispose());
});

test.serial('repeated QA forwards keep tf.memory().numTensors flat; dispose frees the model', async (t) => {
  const before = tf.memory().numTensors;
  const { model } = await loadQaModel(fixturePath('deberta-v2'), { headSeed: 1 });
  const ref = readReference('deberta-v2');
  const batch = batchOf('deberta-v2', ref);
  const run = () => {
    const o = model.forward(batch, true);
    [o.lastHiddenState, o.startLogits, o.endLogits].forEach((x) => x.dispose());
  };
  run();
  const steady = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run();
  t.is(tf.memory().numTensors, steady);
  disposeBatch(batch);
  model.dispose();
  t.is(tf.memory().numTensors, before);
});

test.serial('adapters inject into a QA model: the head and the adapters train, the pooler-free encoder is targeted', async (t) => {
  const { model } = await loadQaModel(fixturePath('roberta'), { headSeed: 3 });
  const config = parseAdaLoraConfig({ initR: 2, targetR: 1, totalStep: 10, targetModules: ['query', 'value'] });
  const ref = readReference('roberta');
  const batch = batchOf('roberta', ref);
  const plain = model.forward(batch, false);
  const injected = injectAdapters(model, config, 4);
  const names = [...injected.trainables.keys()];
  t.deepEqual(names.slice(-2), ['qa_outputs.weight', 'qa_outputs.bias']);
  t.is(injected.adapters.size, 4); // 2 layers × query, value
  t.true((names as string[]).includes('roberta.encoder.layer.0.attention.self.query.lora_E'));
  // AdaLoRA starts with E = 0: the adapted model computes what the plain one did
  const adapted = model.forward(batch, false);
  t.true(maxAbsError(adapted.startLogits, plain.startLogits.arraySync() as number[][]) < 1e-6);
  [plain, adapted].forEach((o) => [o.lastHiddenState, o.startLogits, o.endLogits].forEach((x) => x.dispose()));
  injected.dispose();
  disposeBatch(batch);
  model.dispose();
});
