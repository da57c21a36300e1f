import test from 'ava';
import { ModelFileServer } from '@adalora/coordinator';
import { parseAdaLoraConfig, workerJobToJson, type WorkerJob } from '@adalora/config';
import {
  encodeSamples,
  float32FromTensor,
  float64FromTensor,
  PROTOCOL_VERSION,
  tensorFromFloat32,
  tensorFromFloat64,
  wireFromFloat32,
  type ComputeMessage,
  type CoordinatorToWorker,
  type JsonObject,
  type WorkerToCoordinator,
} from '@adalora/protocol';
import { fixturePath, until } from '@adalora/test-support';
import { runWorkerClient, WorkerFault, type ClientSession, type WorkerExit } from '@adalora/worker';
import { AggregatorSession } from './aggregator-session';

// One aggregator driven by hand as its coordinator would, and two in-process workers of its
// group that answer with gradients made up from the micro-batch indices (no model): what the
// aggregator replies can then be checked against the same sums computed here.

const MICRO = 2;
const ROWS = 9; // five micro-batches, the last one short
const SEQ = 3;
const SHAPE = [3, 4];
const job: WorkerJob = { adalora: parseAdaLoraConfig({ initR: 6, targetR: 1, tinit: 2, tfinal: 4, deltaT: 2, totalStep: 16, targetModules: ['query'] }), microBatch: MICRO, head: 'classification', numLabels: 2, headSeed: 0, reinitHead: false, wire: 'float64' };

/** A made-up float32 gradient of grid micro-batch `u`. */
const microGradient = (u: number) => Float32Array.from({ length: 12 }, (_, i) => (u + 1) * 0.375 - i * 0.0625);
/** What a worker sums over micro-batches `units` (float64, in order). */
function sumOver(units: readonly number[]): Float64Array {
  const g = new Float64Array(12);
  for (const u of units) microGradient(u).forEach((v, i) => (g[i] += v));
  return g;
}

/** A worker of the group without a model: gradients from the micro-batch indices, outputs from the sample ids; it fails computing the steps in `failOn`. */
function fakeWorker(id: string, failOn: ReadonlySet<number>): ClientSession {
  return {
    hello: () => ({ type: 'hello', protocolVersion: PROTOCOL_VERSION, workerId: id, capabilities: { backend: 'fake', memoryBytes: 0, hostname: 'test', pid: 1 } }),
    dispose: () => {},
    handle: async (msg: CoordinatorToWorker): Promise<WorkerToCoordinator[]> => {
      if (msg.type === 'welcome') return [{ type: 'ready', runId: msg.runId, modelHash: msg.run.modelHash, loadMs: 0 }];
      if (msg.type === 'compute') {
        if (failOn.has(msg.step)) throw new WorkerFault('WORKER_ERR_TEST', `${id} fails step ${msg.step}`);
        const rows = msg.samples.sampleIds.length;
        return [{ type: 'gradients', runId: msg.runId, step: msg.step, requestId: msg.requestId, sampleCount: rows, lossSum: msg.microBatches.reduce((s, u) => s + u, 0), computeMs: 1, tensors: [tensorFromFloat64('m.lora_A', SHAPE, sumOver(msg.microBatches))] }];
      }
      if (msg.type === 'evaluate') {
        const ids = msg.samples.sampleIds;
        return [{ type: 'evalResult', runId: msg.runId, requestId: msg.requestId, sampleIds: [...ids], outputs: wireFromFloat32([ids.length, 2], Float32Array.from(ids.flatMap((s) => [s, -s]))) }];
      }
      return [];
    },
  };
}

test('an aggregator splits requests among its workers, redoes a failed share in its group, and sums the shares as one worker would', async (t) => {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const modelDir = fixturePath('bert');
  const modelFiles = (await ModelFileServer.of(modelDir)).manifest;
  const listening: { port?: number } = {};
  const session = new AggregatorSession({
    workerId: 'agg',
    fetchModel: async () => modelDir,
    host: '127.0.0.1',
    port: 0,
    security: { secret: null, tls: null, insecure: false },
    stepTimeoutFloorMs: 5_000,
    heartbeatMs: 1_000,
    maxConnections: 8,
    handshakeTimeoutMs: 5_000,
    log,
    onListening: (port) => (listening.port = port),
  });
  const workers: Promise<WorkerExit>[] = [];
  try {
    const runId = 'run-1';
    const run = { workerJob: workerJobToJson(job) as JsonObject, modelPath: '/coordinator/model', modelFiles, modelHash: 'ab'.repeat(32), dataHash: 'data' };
    const [ready] = await session.handle({ type: 'welcome', protocolVersion: PROTOCOL_VERSION, runId, workerIndex: 0, run });
    t.like(ready, { type: 'ready', runId, modelHash: run.modelHash });
    await session.handle({ type: 'state', runId, step: 1, tensors: [tensorFromFloat32('m.lora_A', SHAPE, new Float32Array(12))] });
    t.truthy(listening.port);
    // worker b fails step 1, worker a step 2
    for (const [id, failOn] of [['a', new Set([2])], ['b', new Set([1])]] as const) {
      const o = { url: `ws://127.0.0.1:${listening.port}`, workerId: id, backend: 'fake', secret: null, giveUpAfterMs: 10_000, initialDelayMs: 50, maxDelayMs: 200, log: () => {} };
      workers.push(runWorkerClient(o, () => fakeWorker(id, failOn)));
    }
    await until(() => lines.some((l) => l.includes('2 worker(s) ready')), 'both workers ready', 120_000);

    const ids = Array.from({ length: ROWS }, (_, r) => 500 + r);
    const samples = encodeSamples(ids, { rows: ROWS, seq: SEQ, inputIds: new Int32Array(ROWS * SEQ), attentionMask: new Int32Array(ROWS * SEQ).fill(1), labels: new Int32Array(ROWS) });
    // evaluation on both workers: the outputs come back joined in row order
    const [evaluated] = await session.handle({ type: 'evaluate', runId, requestId: 3, samples });
    if (evaluated?.type !== 'evalResult') return t.fail(`expected an evalResult, got ${evaluated?.type}`);
    t.deepEqual(evaluated.sampleIds, ids);
    t.deepEqual(float32FromTensor(evaluated.outputs), Float32Array.from(ids.flatMap((s) => [s, -s])));

    // step 1: b fails its share; a redoes it, and the reply is the sum over all five micro-batches
    const compute = (step: number): ComputeMessage => ({ type: 'compute', runId, step, requestId: 10 + step, seed: 1234, microBatches: [3, 4, 5, 6, 7], samples });
    const [reply] = await session.handle(compute(1));
    if (reply?.type !== 'gradients') return t.fail(`expected gradients, got ${reply?.type}`);
    t.like(reply, { step: 1, requestId: 11, sampleCount: ROWS, lossSum: 3 + 4 + 5 + 6 + 7 });
    t.deepEqual(float64FromTensor(reply.tensors[0]), sumOver([3, 4, 5, 6, 7]));
    t.true(lines.some((l) => /step 1: a share of \d micro-batch\(es\) failed .*WORKER_ERR_TEST: b fails step 1.*; redistributing in this group/.test(l)), lines.join('\n'));
    t.like(await workers[1], { ok: false }, 'b stopped on its fault');

    // step 2: a, the last worker, fails too: the data or the model is at fault, reported as the aggregator's own
    const e = await t.throwsAsync(session.handle(compute(2)), { instanceOf: WorkerFault, message: /step 2: micro-batch \d failed on every worker there is.*a fails step 2/ });
    t.is(e?.code, 'AGGREGATOR_ERR_SHARE');
  } finally {
    await session.close('finished', 'test over');
    await Promise.allSettled(workers);
  }
});
