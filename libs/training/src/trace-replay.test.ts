import test from 'ava';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { injectAdapters, loadEncoder, loadTrainableState, readPeftAdapterTensors } from '@adalora/models';
import { loadPublicBertTrace } from '@adalora/test-support';
import { computeGradientSums, ClusterOptimizer, sliceRows, type GradientSums } from './index';

/** peft's own run, replayed in one process; shares split the global batch as N workers would. */
async function replay(t: import('ava').ExecutionContext, shareSizes: readonly number[]) {
  await tf.setBackend('wasm');
  const trace = loadPublicBertTrace();
  const { model } = await loadEncoder(join(trace.dir, 'base'));
  const injected = injectAdapters(model, trace.adalora);
  loadTrainableState(join(trace.dir, 'initial_trainable.safetensors'), injected);
  const optimizer = new ClusterOptimizer(injected, trace.adalora, trace.optimizer);
  let worstLoss = 0;
  for (const expected of trace.steps) {
    const batch = trace.batch(expected.step);
    const shares: GradientSums[] = [];
    let from = 0;
    for (const size of shareSizes) {
      // 3/3/2 is off the 4-row grid; the trace has no dropout, so these indices only label the parts
      const microBatches = Array.from({ length: Math.ceil(size / 4) }, (_, i) => from + i);
      shares.push(computeGradientSums(model, injected.trainables, sliceRows(batch, from, from + size), 4, { seed: 0, step: expected.step, microBatches }));
      from += size;
    }
    const report = optimizer.apply(shares);
    const rel = Math.abs(report.loss - expected.loss_with_orth) / Math.abs(expected.loss_with_orth);
    worstLoss = Math.max(worstLoss, rel);
    t.true(rel <= 1e-3, `step ${expected.step}: loss ${report.loss} vs peft ${expected.loss_with_orth}`);
    t.is(report.budget, expected.budget, `step ${expected.step}: budget`);
    for (const [name, kept] of Object.entries(expected.kept)) {
      const id = name.replace(/^base_model\.model\./, '').replace(/\.lora_E\.default$/, '');
      t.is(report.kept.get(id as never), kept, `step ${expected.step}: kept of ${id}`);
    }
  }
  // the final adapter: same values where peft kept a triplet
  const final = readPeftAdapterTensors(join(trace.dir, 'final-adapter'));
  let worstValue = 0;
  for (const [id, adapter] of injected.adapters) {
    const svd = adapter as import('@adalora/core').SvdAdapter;
    const E = svd.E.dataSync();
    const keep = Array.from(E, (e) => e !== 0);
    const k = keep.filter(Boolean).length;
    const peftE = final.get(`base_model.model.${id}.lora_E`)!;
    t.is(peftE.shape[0], k, `${id}: kept rank`);
    const kept = keep.flatMap((on, i) => (on ? [i] : []));
    const A = svd.A.arraySync() as number[][];
    const B = svd.B.arraySync() as number[][];
    const peftA = final.get(`base_model.model.${id}.lora_A`)!;
    const peftB = final.get(`base_model.model.${id}.lora_B`)!;
    kept.forEach((row, j) => {
      worstValue = Math.max(worstValue, Math.abs(E[row] - peftE.data[j]));
      A[row].forEach((v, c) => (worstValue = Math.max(worstValue, Math.abs(v - peftA.data[j * A[row].length + c]))));
      B.forEach((r, o) => (worstValue = Math.max(worstValue, Math.abs(r[row] - peftB.data[o * k + j]))));
    });
  }
  t.true(worstValue <= 1e-4, `final adapter values differ from peft's by ${worstValue}`);
  t.log(`shares ${shareSizes.join('/')}: worst loss rel err ${worstLoss.toExponential(2)}, worst final value err ${worstValue.toExponential(2)}`);
  injected.dispose();
  model.dispose();
}

test.serial('one process reproduces the peft trace step for step', (t) => replay(t, [8]));
test.serial('three workers (3/3/2) reproduce the same trace', (t) => replay(t, [3, 3, 2]));
