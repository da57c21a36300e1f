import test from 'ava';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { parseTrainableKey } from '@adalora/core';
import { injectAdapters, loadEncoder } from '@adalora/models';
import { encodeSamples, float64FromTensor, PROTOCOL_VERSION, tensorFromFloat32, type WelcomeMessage } from '@adalora/protocol';
import { workerJobToJson } from '@adalora/config';
import { loadPublicBertTrace } from '@adalora/test-support';
import { computeGradientSums } from '@adalora/training';
import { WorkerFault, WorkerSession } from './worker-session';

const trace = loadPublicBertTrace();
const modelDir = join(trace.dir, 'base');
const job = { adalora: trace.adalora, microBatch: 4, head: 'classification' as const, numLabels: 3, headSeed: 0, reinitHead: false, wire: 'float64' as const };

async function welcome(hash?: string): Promise<WelcomeMessage> {
  const { model, hash: real } = await loadEncoder(modelDir);
  model.dispose();
  return { type: 'welcome', protocolVersion: PROTOCOL_VERSION, runId: 'run-1', workerIndex: 0, run: { workerJob: workerJobToJson(job) as never, modelPath: modelDir, modelFiles: [], modelHash: hash ?? real, dataHash: 'd' } };
}

const session = () => new WorkerSession({ workerId: 'w', backend: 'wasm', log: () => {} });

test.before(async () => {
  await tf.setBackend('wasm');
});

async function faultOf(p: Promise<unknown>): Promise<WorkerFault> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof WorkerFault)) throw new Error(`expected a WorkerFault, got ${String(e)}`);
  return e;
}

test('a model whose hash differs from the run is refused', async (t) => {
  const s = session();
  const e = await faultOf(s.handle(await welcome('0'.repeat(64))));
  t.is(e.code, 'WORKER_ERR_MODEL_HASH');
  s.dispose();
});

test('compute before any state is unexpected; a state must cover every trainable with its shape', async (t) => {
  const s = session();
  const [ready] = await s.handle(await welcome());
  t.like(ready, { type: 'ready', runId: 'run-1' });
  const batch = trace.batch(0);
  const compute = { type: 'compute' as const, runId: 'run-1', step: 0, requestId: 1, seed: 1, microBatches: [0, 1], samples: encodeSamples([0, 1, 2, 3, 4, 5, 6, 7], batch) };
  t.is((await faultOf(s.handle(compute))).code, 'PROTO_ERR_UNEXPECTED');
  const wrongShape = { type: 'state' as const, runId: 'run-1', step: 0, tensors: [tensorFromFloat32('classifier.bias', [2], new Float32Array(2))] };
  t.like(await faultOf(s.handle(wrongShape)), { code: 'WORKER_ERR_STATE', message: "state for step 0: tensor 'classifier.bias' has shape [2], expected [3]" });
  const unknown = { type: 'state' as const, runId: 'run-1', step: 0, tensors: [tensorFromFloat32('nope.lora_A', [1], new Float32Array(1))] };
  t.like(await faultOf(s.handle(unknown)), { code: 'WORKER_ERR_STATE', message: "state for step 0: unknown tensor 'nope.lora_A'" });
  const partial = { type: 'state' as const, runId: 'run-1', step: 0, tensors: [tensorFromFloat32('classifier.bias', [3], new Float32Array(3))] };
  const missing = await faultOf(s.handle(partial));
  t.is(missing.code, 'WORKER_ERR_STATE');
  t.regex(missing.message, /^state for step 0: missing tensor '[^']+' \(1 of \d+ present\)$/);
  t.is((await faultOf(s.handle({ ...compute, runId: 'other' }))).code, 'PROTO_ERR_BAD_FIELD');
  s.dispose();
});

test('after a full state, compute returns the gradient sums of the reference computation', async (t) => {
  const s = session();
  await s.handle(await welcome());
  // the reference: the same model and adapter state in this process
  const { model } = await loadEncoder(modelDir);
  const injected = injectAdapters(model, trace.adalora, 7);
  const state = [...injected.trainables].map(([name, v]) => tensorFromFloat32(name, v.shape, v.dataSync() as Float32Array));
  await s.handle({ type: 'state', runId: 'run-1', step: 3, tensors: state });
  const batch = trace.batch(3);
  const compute = { type: 'compute' as const, runId: 'run-1', step: 3, requestId: 9, seed: 1, microBatches: [0, 1], samples: encodeSamples([0, 1, 2, 3, 4, 5, 6, 7], batch) };
  await s.handle(compute); // the first pass caches each frozen layer's Wᵀ
  const before = tf.memory().numTensors;
  const [reply] = await s.handle(compute);
  t.is(tf.memory().numTensors, before, 'no tensor left behind by a compute');
  if (reply.type !== 'gradients') return t.fail(reply.type);
  t.like(reply, { step: 3, requestId: 9, sampleCount: 8 });
  const expected = computeGradientSums(model, injected.trainables, batch, job.microBatch, { seed: 1, step: 3, microBatches: [0, 1] });
  t.true(Math.abs(reply.lossSum - expected.lossSum) < 1e-9);
  for (const tensor of reply.tensors) t.deepEqual(Array.from(float64FromTensor(tensor)), Array.from(expected.grads.get(parseTrainableKey(tensor.name).key)!), tensor.name);
  t.is(reply.tensors.length, expected.grads.size);
  const miscounted = await faultOf(s.handle({ ...compute, microBatches: [0] }));
  t.is(miscounted.code, 'PROTO_ERR_BAD_FIELD', 'one grid index for two micro-batches of 4');
  t.regex(miscounted.message, /names 1 micro-batch\(es\), but its 8 samples make 2 of 4/);
  injected.dispose();
  model.dispose();
  s.dispose();
});
