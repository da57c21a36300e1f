import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSamples, float64FromTensor, TransferBuffers, type ComputeMessage, type GradientsMessage, type WorkerToCoordinator } from '@adalora/protocol';
import { SyntheticGradientsPool, SyntheticSession } from '@adalora/worker';
import { batchOf, type Job } from './job';
import { measureSynthetic } from './measure-synthetic';
import { stateMessage, welcomeMessage } from './run-messages';
import { coordinatorMs, STEP_SPLIT_FIELDS } from './step-split';
import { prepareSyntheticJob } from './synthetic-job';
import { presetValueCount, SYNTHETIC_PRESETS } from './synthetic-presets';

test('the presets have their models’ module shapes: BERT-base and DeBERTa-v3-base ≈ 2.0 M values at r 12, BERT-large 5.3 M', (t) => {
  // per layer: 4 × r(768 + 768 + 1) + 2 × r(768 + 3072 + 1), × 12 layers
  t.is(presetValueCount(SYNTHETIC_PRESETS['bert-base-r12']), 1_991_520);
  t.is(presetValueCount(SYNTHETIC_PRESETS['deberta-v3-base-r12']), 1_991_520);
  t.is(presetValueCount(SYNTHETIC_PRESETS['bert-large-r12']), 5_310_144);
});

async function withJob(wire: 'float64' | 'float32', f: (job: Job) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'synthetic-test-'));
  const job = prepareSyntheticJob({ preset: 'tiny-r4', steps: 4, batchSize: 16, microBatch: 4, outputDir: dir, minWorkers: 1, wire }, () => {});
  try {
    await f(job);
  } finally {
    job.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A synthetic session of `job` after welcome and the step-0 state, and a compute request over some micro-batches. */
async function session(job: Job): Promise<SyntheticSession> {
  const s = new SyntheticSession({ workerId: 'w', sampleMs: 0, gradients: new SyntheticGradientsPool(), log: () => {} });
  const [ready] = await s.handle(welcomeMessage(job, 0, []));
  if (ready.type !== 'ready' || ready.modelHash !== job.modelHash || ready.runId !== job.runId) throw new Error(`no ready for the run: ${JSON.stringify(ready)}`);
  await s.handle(stateMessage(job));
  return s;
}

function compute(job: Job, microBatches: number[]): ComputeMessage {
  const rows = microBatches.flatMap((m) => [0, 1, 2, 3].map((r) => m * 4 + r));
  return { type: 'compute', runId: job.runId, step: 0, requestId: 1, seed: 42, microBatches, samples: encodeSamples(rows, batchOf(job.train, rows, 0, false)) };
}

const gradients = (replies: WorkerToCoordinator[]) => replies[0] as GradientsMessage;

for (const wire of ['float64', 'float32'] as const) {
  test(`synthetic gradients (${wire}) have the run’s names, shapes and wire dtype, are deterministic, and micro-batches add up exactly`, (t) =>
    withJob(wire, async (job) => {
      const a = gradients(await (await session(job)).handle(compute(job, [0, 1])));
      const again = gradients(await (await session(job)).handle(compute(job, [0, 1])));
      const trainables = [...job.injected.trainables];
      t.deepEqual(
        a.tensors.map((x) => [x.name, x.shape, x.dtype]),
        trainables.map(([name, v]) => [name, v.shape, wire]),
      );
      t.is(a.sampleCount, 8);
      t.deepEqual(a.tensors, again.tensors, 'the same request gives the same bytes');
      t.is(a.lossSum, again.lossSum);
      // micro-batch 0 and 1 computed apart add up to both together, exactly
      const s = await session(job);
      const m0 = gradients(await s.handle(compute(job, [0])));
      const m1 = gradients(await s.handle(compute(job, [1])));
      a.tensors.forEach((x, i) => {
        const sum = float64FromTensor(m0.tensors[i]).map((v, j) => v + float64FromTensor(m1.tensors[i])[j]);
        t.deepEqual(float64FromTensor(x), sum, x.name);
      });
      t.is(a.lossSum, m0.lossSum + m1.lossSum);
      // another step draws other weights
      await s.handle({ ...stateMessage(job), step: 1 });
      const next = gradients(await s.handle({ ...compute(job, [0, 1]), step: 1 }));
      t.notDeepEqual(next.tensors[0].data, a.tensors[0].data);
      // a compute for a step whose state it has not seen is a protocol fault
      await t.throwsAsync(s.handle(compute(job, [0])), { message: /compute for step 0, but the last state was for step 1/ });
    }));
}

test('a run with synthetic workers completes; every step record has the split, and its parts add up to the step time', async (t) => {
  const steps = await measureSynthetic({ preset: 'tiny-r4', workers: 3, sampleMs: 1, batchSize: 24, microBatch: 4, warmupSteps: 1, steps: 3 });
  t.is(steps.length, 3);
  const values = presetValueCount(SYNTHETIC_PRESETS['tiny-r4']);
  for (const s of steps) {
    for (const f of STEP_SPLIT_FIELDS) t.true(Number.isFinite(s[f]) && s[f] >= 0, `${f} = ${s[f]}`);
    t.is(s.samples, 24);
    const parts = s.computeMs + coordinatorMs(s) + s.transferMs + s.waitMs;
    // wait is the remainder, never negative: the parts add up to the total unless they already exceed it
    t.true(parts >= s.totalMs - 1e-6, `${parts} < ${s.totalMs}`);
    if (s.waitMs > 0) t.true(Math.abs(parts - s.totalMs) < 1e-6);
    t.true(s.computeMs >= 8, 'two micro-batches of 4 rows at 1 ms per sample');
    // three float64 shares in, three float32 states out (plus requests and framing)
    t.true(s.bytesIn > 3 * values * 8, `bytesIn ${s.bytesIn}`);
    t.true(s.bytesOut > 3 * values * 4, `bytesOut ${s.bytesOut}`);
  }
});

test('shares of one micro-batch go as float32 on a float64 wire (the same values); several stay float64', (t) =>
  withJob('float64', async (job) => {
    const s = await session(job);
    const one = gradients(await s.handle(compute(job, [2])));
    t.true(one.tensors.every((x) => x.dtype === 'float32'));
    const two = gradients(await s.handle(compute(job, [2, 3])));
    t.true(two.tensors.every((x) => x.dtype === 'float64'));
  }));

// 3 connections: shares of one micro-batch (float32 on the wire, added by the SIMD kernel); 1: of three (float64, added in JS)
test('BERT-base-sized shares (chunked transfers, their memory reused from reply to reply) sum to the same adapter on 1 and 3 connections', async (t) => {
  const adapterAfter = async (workers: number) => {
    let bits = '';
    await measureSynthetic({
      preset: 'bert-base-r12', workers, sampleMs: 0, batchSize: 24, microBatch: 8, warmupSteps: 0, steps: 2,
      trained: (job) => (bits = createHash('sha256').update(Buffer.concat([...job.injected.trainables.values()].map((v) => Buffer.from((v.dataSync() as Float32Array).buffer)))).digest('hex')),
    });
    return bits;
  };
  const one = await adapterAfter(1);
  t.regex(one, /^[0-9a-f]{64}$/);
  t.is(await adapterAfter(3), one);
});

test('synthetic workers in one process reassemble every state (8 MB, chunked) into memory they share and give back', async (t) => {
  const pool = new TransferBuffers();
  const workers = 3;
  const steps = 4;
  await measureSynthetic({ preset: 'bert-base-r12', workers, sampleMs: 0, batchSize: 24, microBatch: 8, warmupSteps: 0, steps, workerTransferBuffers: pool });
  // each connection received a state per step (workers × steps chunked transfers); kept, each would have needed its own memory
  t.true(pool.allocated >= 1);
  t.true(pool.allocated <= 2, `${pool.allocated} buffers made for ${workers * steps} states`);
});
