import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { parseAdaLoraConfig } from '@adalora/config';
import { injectAdapters, loadQaModel, type QaModel } from '@adalora/models';
import type { SampleBatch } from '@adalora/protocol';
import { fixturePath } from '@adalora/test-support';
import { computeGradientSums } from './gradient-sums';
import { disposeEncoderInputs, gatherRows, toEncoderInputs } from './sample-rows';
import { evalOutputs, evalWidth, taskLabelTensors, taskLossSum } from './task-loss';

test.before(async () => {
  await tf.setBackend('cpu');
});

const SEQ = 6;
// 4 windows of the fixture BERT's vocabulary, the last two padded; spans inside, one a miss (0, 0)
const qaBatch: SampleBatch = {
  rows: 4,
  seq: SEQ,
  inputIds: Int32Array.of(2, 11, 3, 40, 41, 3, 2, 12, 3, 42, 43, 3, 2, 13, 3, 44, 3, 0, 2, 14, 3, 45, 3, 0),
  attentionMask: Int32Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0),
  tokenTypeIds: Int32Array.of(0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0),
  labels: Int32Array.of(3, 4, 4, 4, 0, 0, 3, 3),
};

async function qaModel(t: import('ava').ExecutionContext): Promise<QaModel> {
  const { model } = await loadQaModel(fixturePath('bert'), { headSeed: 5 }); // the fixture has a classifier: qa_outputs is made from the seed
  t.teardown(() => model.dispose());
  return model;
}

// -log softmax(row)[target] in float64
function nll(row: ArrayLike<number>, target: number): number {
  const max = Math.max(...Array.from(row));
  const lse = Math.log(Array.from(row).reduce((s, v) => s + Math.exp(v - max), 0)) + max;
  return lse - row[target];
}

test("taskLossSum of a QA model is HF's loss summed over rows: Σ (start nll + end nll) / 2 of its own logits", async (t) => {
  const model = await qaModel(t);
  const inputs = toEncoderInputs(qaBatch);
  const labels = taskLabelTensors(model, qaBatch.labels, qaBatch.rows);
  try {
    const loss = tf.tidy(() => taskLossSum(model, inputs, labels, false).dataSync()[0]);
    const out = model.forward(inputs, false);
    const [s, e] = [out.startLogits.arraySync(), out.endLogits.arraySync()];
    tf.dispose([out.startLogits, out.endLogits, out.lastHiddenState]);
    let expected = 0;
    for (let r = 0; r < qaBatch.rows; r++) expected += (nll(s[r], qaBatch.labels[2 * r]) + nll(e[r], qaBatch.labels[2 * r + 1])) / 2;
    t.true(Math.abs(loss - expected) <= 1e-5 * expected, `${loss} vs ${expected}`);
    // evaluation returns start logits then end logits per row
    const flat = tf.tidy(() => evalOutputs(model, inputs).arraySync());
    t.is(evalWidth(model, SEQ), 2 * SEQ);
    flat.forEach((row, r) => t.deepEqual(row, [...s[r], ...e[r]]));
    t.throws(() => taskLabelTensors(model, Int32Array.of(1, 2, 3, 4), 4), { message: /needs int32 answer spans \[4, 2\], got 4 int32 labels/ });
  } finally {
    disposeEncoderInputs(inputs);
    tf.dispose(labels);
  }
});

test('QA gradient sums add up over any split into whole micro-batches (the worker-count identity)', async (t) => {
  const model = await qaModel(t);
  const adalora = parseAdaLoraConfig({ initR: 2, targetR: 1, totalStep: 10, targetModules: ['query', 'value'], modulesToSave: ['qa_outputs'] });
  const injected = injectAdapters(model, adalora, 3);
  t.teardown(() => injected.dispose());
  const whole = computeGradientSums(model, injected.trainables, qaBatch, 2, { seed: 1, step: 0, microBatches: [0, 1] });
  const before = tf.memory().numTensors; // after a first pass: frozen linears cache their Wᵀ
  const first = computeGradientSums(model, injected.trainables, gatherRows(qaBatch, [0, 1]), 2, { seed: 1, step: 0, microBatches: [0] });
  const second = computeGradientSums(model, injected.trainables, gatherRows(qaBatch, [2, 3]), 2, { seed: 1, step: 0, microBatches: [1] });
  t.is(tf.memory().numTensors, before, 'no tensor left behind');
  t.is(whole.lossSum, first.lossSum + second.lossSum);
  t.true([...whole.grads.keys()].some((k) => k.includes('qa_outputs')), 'the QA head trains');
  for (const [key, g] of whole.grads) {
    const a = first.grads.get(key)!;
    const b = second.grads.get(key)!;
    t.deepEqual([...g], Array.from(g, (_, i) => a[i] + b[i]), key);
    // E starts at zero, so at step 0 only E and the head get a non-zero gradient (peft alike)
    if (key.includes('qa_outputs') || key.endsWith('lora_E')) t.true(g.some((v) => v !== 0), `${key} gets a gradient`);
  }
});
