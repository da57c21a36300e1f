import test from 'ava';
import { EVERY_STEP_UP_TO, heatmapColumns, heatmapRows } from './heatmap-layout';
import type { MetricsRecord, StepMetrics } from './metrics-log';
import { runView } from './run-view';

const Q0 = 'bert.encoder.layer.0.attention.self.query';
const K0 = 'bert.encoder.layer.0.attention.self.key';
const Q1 = 'bert.encoder.layer.1.attention.self.query';
const POOLER = 'bert.pooler.dense';

test('heatmap rows: grouped by layer in layer order, the model order within a layer, matrices outside the layers last', (t) => {
  const rows = heatmapRows([POOLER, Q1, Q0, K0]);
  t.deepEqual(rows.map((r) => r.module), [Q0, K0, Q1, POOLER]);
  t.deepEqual(rows.map((r) => [r.layer, r.type]), [[0, 'attention.self.query'], [0, 'attention.self.key'], [1, 'attention.self.query'], [null, POOLER]]);
});

test('heatmap columns: every step of a short run; of a long one the first, the last and every masking step that changed the allocation', (t) => {
  const short = Array.from({ length: 5 }, () => ({ kept: { a: 1 }, maskApplied: false }));
  t.deepEqual(heatmapColumns(short), [0, 1, 2, 3, 4]);
  const n = EVERY_STEP_UP_TO + 80;
  // masking every 10th step from 40 on; between masking steps the masked values grow back (rank 6)
  const long = Array.from({ length: n }, (_, i) => {
    const masking = i >= 40 && i % 10 === 0;
    return { maskApplied: masking, kept: masking ? { a: i < 70 ? 3 : 1, b: 2 } : { a: 6, b: 6 } };
  });
  t.deepEqual(heatmapColumns(long), [0, 40, 70, n - 1]);
});

function step(n: number, kept: Record<string, number>, maskApplied = false): StepMetrics {
  return { kind: 'step', step: n, time: `t${n}`, runId: 'r', epoch: n / 4, loss: 1 / n, lr: 0.01, budget: 6, maskApplied, kept, samples: 4, samplesPerSecond: 10, workers: 1, totalMs: 120, computeMs: 100, sumMs: 1, optimizerMs: 9, allocationMs: 0, encodeMs: 0, transferMs: 10, waitMs: 0, bytesIn: 1000, bytesOut: 2000 };
}

test('the view of a run: series per step, every eval metric, heatmap cells equal to the kept ranks, events, workers from the events', (t) => {
  const records: MetricsRecord[] = [
    { kind: 'config', step: 0, time: 't0', runId: 'r', config: { model: 'm' }, totalSteps: 3, batchesPerEpoch: 4, initialRanks: { [Q1]: 2, [Q0]: 2 }, trueRanks: { [Q0]: 1, [Q1]: 0 } },
    { kind: 'event', step: 0, time: 't0', runId: 'r', event: 'join', detail: 'worker 0 joined', worker: { index: 0, id: 'w', host: 'h', backend: 'wasm' } },
    step(1, { [Q0]: 2, [Q1]: 2 }),
    step(2, { [Q0]: 1, [Q1]: 0 }, true),
    { kind: 'eval', step: 2, time: 't2', runId: 'r', epoch: 0.5, metric: 'mcc', value: 0.5, metrics: { mcc: 0.5, accuracy: 0.75 }, loss: 0.3, samples: 8 },
    step(3, { [Q0]: 1, [Q1]: 0 }, true),
    { kind: 'event', step: 3, time: 't3', runId: 'r', event: 'checkpoint', detail: 'saved the final adapter' },
  ];
  const v = runView(records, null, new Date(0));
  t.is(v.state, 'finished');
  t.is(v.model, 'm');
  t.deepEqual(v.steps.step, [1, 2, 3]);
  t.deepEqual(v.evals, { headline: 'mcc', step: [2], loss: [0.3], metrics: { mcc: [0.5], accuracy: [0.75] } });
  t.deepEqual(v.heatmap.rows.map((r) => r.module), [Q0, Q1]);
  t.deepEqual(v.heatmap.columns, [1, 2, 3]);
  t.deepEqual(v.heatmap.ranks, [[2, 1, 1], [2, 0, 0]]);
  t.deepEqual(v.heatmap.current, [1, 0]);
  t.deepEqual(v.heatmap.trueRanks, [1, 0]);
  t.is(v.heatmap.maxRank, 2);
  t.deepEqual(v.events.map((e) => [e.step, e.kind]), [[0, 'start'], [0, 'join'], [2, 'eval'], [2, 'ranks'], [3, 'checkpoint']]);
  t.is(v.events[3].text, 'masking: first masking, kept ranks 1 (1 matrices at 0)');
  t.deepEqual(v.workers.map((w) => [w.id, w.host, w.backend, w.state]), [['w', 'h', 'wasm', 'joined']]);
  t.is(runView(records.slice(0, 4), [], new Date(0)).state, 'running');
  t.is(runView(records.slice(0, 4), null, new Date(0)).state, 'stopped', 'the report of an interrupted run');
});
