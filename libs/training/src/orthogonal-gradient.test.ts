import test from 'ava';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { adapterKey, type SvdAdapter } from '@adalora/core';
import { injectAdapters, loadEncoder, loadTrainableState } from '@adalora/models';
import { loadPublicBertTrace } from '@adalora/test-support';
import { ClusterOptimizer, computeGradientSums } from './index';

/** peft's trace run set up twice from the same initial adapter: one optimizer per copy. */
async function twoCopies() {
  await tf.setBackend('wasm');
  const trace = loadPublicBertTrace();
  const copy = async () => {
    const { model } = await loadEncoder(join(trace.dir, 'base'));
    const injected = injectAdapters(model, trace.adalora);
    loadTrainableState(join(trace.dir, 'initial_trainable.safetensors'), injected);
    return { model, injected, optimizer: new ClusterOptimizer(injected, trace.adalora, trace.optimizer) };
  };
  return { trace, plain: await copy(), prepared: await copy() };
}

function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync()).buffer);
}

test.serial('a regulariser gradient prepared before the step gives the bits of plain apply(), masking steps included', async (t) => {
  const { trace, plain, prepared } = await twoCopies();
  t.true(trace.adalora.orthRegWeight > 0);
  const steps = trace.steps.slice(0, 16); // budget falls from step 4 on: masks at every step of those
  let masked = 0;
  for (const { step } of steps) {
    // the two copies hold the same bits (checked below), so one gradient serves both
    const sums = computeGradientSums(plain.model, plain.injected.trainables, trace.batch(step), 4, { seed: 0, step, microBatches: [0, 1] });
    const handle = prepared.optimizer.prepare();
    const a = plain.optimizer.apply([sums]);
    const b = prepared.optimizer.apply([sums], handle);
    t.true(handle.isDisposed, 'apply consumes the prepared gradient');
    // everything but the phases' wall times (phaseMs), which differ from run to run
    t.deepEqual({ ...b, phaseMs: null }, { ...a, phaseMs: null }, `step ${step}: report`);
    if (a.maskApplied) masked++;
    for (const [key, v] of plain.injected.trainables) {
      t.deepEqual(bits(prepared.injected.trainables.get(key)!), bits(v), `step ${step}: ${key}`);
    }
    // snapshot() hands out the values it wrote (no read-back): they must be the tensors' own, masks included
    const snap = plain.optimizer.snapshot();
    const again = plain.optimizer.snapshot();
    for (const [key, v] of plain.injected.trainables) {
      const x = snap.get(key)!;
      t.deepEqual(new Uint32Array(x.buffer, x.byteOffset, x.length), bits(v), `step ${step}: snapshot of ${key}`);
      t.is(again.get(key), x, `step ${step}: an unchanged ${key} is not copied again`);
    }
  }
  t.true(masked >= 5, `only ${masked} masking steps`);
  t.log(`${steps.length} steps, ${masked} of them masking: bit-identical`);
  for (const c of [plain, prepared]) {
    c.injected.dispose();
    c.model.dispose();
  }
});

test.serial('apply() refuses a prepared gradient of another step or of changed adapters, and leaks no tensor', async (t) => {
  const { trace, plain, prepared: twin } = await twoCopies();
  const { optimizer, injected, model } = plain;
  const sums = computeGradientSums(model, injected.trainables, trace.batch(0), 4, { seed: 0, step: 0, microBatches: [0, 1] });
  const stale = optimizer.prepare();
  optimizer.apply([sums]);
  t.throws(() => optimizer.apply([sums], stale), { message: /prepared regulariser gradient is of step 0, this is step 1/ });
  t.true(stale.isDisposed);
  const before = tf.memory().numTensors; // AdamW's moments exist from the first step on

  const early = optimizer.prepare();
  const first = [...injected.adapters.values()][0] as SvdAdapter;
  const beforeA = optimizer.snapshot().get(adapterKey(first.id, 'lora_A'))!.slice();
  tf.tidy(() => first.A.assign(first.A.mul(1))); // same values, new tensor: still a change the handle must see
  tf.tidy(() => first.A.assign(first.A.mul(2))); // a change the snapshot must see
  t.deepEqual(optimizer.snapshot().get(adapterKey(first.id, 'lora_A')), beforeA.map((x) => x * 2), 'snapshot() reads a trainable changed outside the optimizer');
  t.throws(() => optimizer.apply([sums], early), { message: /adapters changed since the regulariser gradient was prepared/ });
  t.throws(() => optimizer.apply([sums], early), { message: /already used or disposed/ });
  t.is(optimizer.step, 1, 'a refused apply makes no step');
  const other = twin.optimizer;
  t.throws(() => optimizer.apply([sums], other.prepare()), { message: /made by another optimizer/ });
  t.is(optimizer.step, 1);

  optimizer.prepare().dispose();
  t.is(tf.memory().numTensors, before);
  for (const c of [plain, twin]) {
    c.injected.dispose();
    c.model.dispose();
  }
});
