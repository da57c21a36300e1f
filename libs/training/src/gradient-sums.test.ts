import test from 'ava';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { injectAdapters, loadEncoder } from '@adalora/models';
import { computeGradientSums, type GradientSums, type SharePlace } from './gradient-sums';
import { loadPublicBertTrace } from '@adalora/test-support';
import { gatherRows } from './sample-rows';

const trace = loadPublicBertTrace();
const MICRO = 2; // trace batches have 8 rows: 4 micro-batches on the grid

/** The trace's BERT with dropout 0.1 on embeddings, attention probabilities and hidden outputs, as real checkpoints have. */
async function droppingModel(t: import('ava').ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-dropout-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const base = join(trace.dir, 'base');
  const config = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }));
  copyFileSync(join(base, 'model.safetensors'), join(dir, 'model.safetensors'));
  const { model } = await loadEncoder(dir);
  const injected = injectAdapters(model, { ...trace.adalora, loraDropout: 0.1 }, 7);
  t.teardown(() => (injected.dispose(), model.dispose()));
  return { model, injected };
}

/** Σ of shares, added in the given order as the coordinator does. */
function total(shares: readonly GradientSums[]): { lossSum: number; grads: Map<string, Float64Array> } {
  const grads = new Map<string, Float64Array>();
  let lossSum = 0;
  for (const s of shares) {
    lossSum += s.lossSum;
    for (const [name, g] of s.grads) {
      const sum = grads.get(name) ?? grads.set(name, new Float64Array(g.length)).get(name)!;
      for (let i = 0; i < g.length; i++) sum[i] += g[i];
    }
  }
  return { lossSum, grads };
}

function sameBits(t: import('ava').ExecutionContext, a: { lossSum: number; grads: Map<string, Float64Array> }, b: typeof a, what: string) {
  t.is(a.lossSum, b.lossSum, `${what}: loss sum`);
  t.deepEqual([...a.grads.keys()].sort(), [...b.grads.keys()].sort());
  const differing = [...a.grads].filter(([name, g]) => !g.every((v, i) => Object.is(v, b.grads.get(name)![i]))).map(([name]) => name);
  t.deepEqual(differing, [], `${what}: gradients with differing bits`);
}

test.before(async () => {
  await tf.setBackend('wasm');
});

test.serial('with dropout on, a micro-batch computes the same bits twice, in any share, and differs at another step', async (t) => {
  const { model, injected } = await droppingModel(t);
  const batch = trace.batch(0);
  const place = (step: number, microBatches: number[]): SharePlace => ({ seed: 1234, step, microBatches });
  const rowsOf = (units: number[]) => units.flatMap((u) => Array.from({ length: MICRO }, (_, j) => u * MICRO + j));
  const share = (step: number, units: number[]) => computeGradientSums(model, injected.trainables, gatherRows(batch, rowsOf(units)), MICRO, place(step, units));

  const whole = total([share(3, [0, 1, 2, 3])]);
  sameBits(t, total([share(3, [0, 1, 2, 3])]), whole, 'computed twice');
  // two non-contiguous shares, the later micro-batches computed first (a redistributed failure)
  sameBits(t, total([share(3, [1, 3]), share(3, [0, 2])]), whole, 'split 1,3 + 0,2');
  sameBits(t, total([share(3, [3]), share(3, [0, 1, 2])]), whole, 'split 3 + 0,1,2');

  const otherStep = total([share(4, [0, 1, 2, 3])]);
  t.not(otherStep.lossSum, whole.lossSum, 'another step draws other masks: dropout is really on');
  t.throws(() => computeGradientSums(model, injected.trainables, batch, MICRO, place(3, [0, 1])), { message: /8 rows make 4 micro-batch\(es\) of 2, but 2 grid index\(es\)/ });
});

test.serial('at dropout 0 the place changes nothing', async (t) => {
  const { model } = await loadEncoder(join(trace.dir, 'base'));
  const injected = injectAdapters(model, trace.adalora, 7);
  t.teardown(() => (injected.dispose(), model.dispose()));
  const batch = trace.batch(0);
  const a = computeGradientSums(model, injected.trainables, batch, MICRO, { seed: 1, step: 0, microBatches: [0, 1, 2, 3] });
  const b = computeGradientSums(model, injected.trainables, batch, MICRO, { seed: 2, step: 9, microBatches: [4, 5, 6, 7] });
  sameBits(t, total([a]), total([b]), 'dropout 0, another place');
});
