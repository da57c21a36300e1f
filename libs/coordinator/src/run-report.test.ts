import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsRecord } from './metrics-log';
import { evalsCsv, stepsCsv, writeRunReport } from './run-report';

const records: MetricsRecord[] = [
  { kind: 'config', step: 0, time: 't0', runId: 'r1', config: { model: 'a "quoted", model' }, totalSteps: 2, batchesPerEpoch: 2, initialRanks: { q: 2, k: 2 }, trueRanks: null },
  { kind: 'step', step: 1, time: 't1', runId: 'r1', epoch: 0.5, loss: 1, lr: 0.1, budget: null, maskApplied: false, kept: { q: 2, k: 2 }, samples: 4, samplesPerSecond: 8, workers: 1, totalMs: 500, computeMs: 400, sumMs: 1, optimizerMs: 49, allocationMs: 0, encodeMs: 0, transferMs: 30, waitMs: 20, bytesIn: 1000, bytesOut: 2000 },
  { kind: 'step', step: 2, time: 't2', runId: 'r1', epoch: 1, loss: 0.5, lr: 0.05, budget: 2, maskApplied: true, kept: { q: 2, k: 0 }, samples: 4, samplesPerSecond: 9, workers: 1, totalMs: 500, computeMs: 400, sumMs: 1, optimizerMs: 49, allocationMs: 0, encodeMs: 0, transferMs: 30, waitMs: 20, bytesIn: 1000, bytesOut: 2000 },
  { kind: 'eval', step: 2, time: 't2', runId: 'r1', epoch: 1, metric: 'accuracy', value: 0.5, metrics: { accuracy: 0.5, f1: 0.25 }, loss: 0.7, samples: 6 },
];

test('CSV: one row per step with every scalar field and the kept rank per matrix; one row per evaluation with every metric', (t) => {
  t.is(
    stepsCsv(records),
    [
      'step,time,epoch,runId,loss,lr,budget,maskApplied,samples,samplesPerSecond,workers,totalMs,computeMs,sumMs,optimizerMs,allocationMs,encodeMs,transferMs,waitMs,bytesIn,bytesOut,kept:q,kept:k',
      '1,t1,0.5,r1,1,0.1,,false,4,8,1,500,400,1,49,0,0,30,20,1000,2000,2,2',
      '2,t2,1,r1,0.5,0.05,2,true,4,9,1,500,400,1,49,0,0,30,20,1000,2000,2,0',
      '',
    ].join('\n'),
  );
  t.is(evalsCsv(records), 'step,time,epoch,loss,samples,accuracy,f1\n2,t2,1,0.7,6,0.5,0.25\n');
});

test('the report is one HTML file with the data, uPlot and the page script inline (nothing fetched), beside the CSV files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'report-test-'));
  try {
    // a torn last line (a killed run) is skipped, not fatal
    writeFileSync(join(dir, 'metrics.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n{"kind":"st');
    const files = writeRunReport(dir, join(dir, 'out'));
    const html = readFileSync(files.html, 'utf8');
    t.notRegex(html, /<script[^>]+src=|<link[^>]+href=|@import|https?:\/\/cdn/i, 'no external script, style or CDN');
    t.regex(html, /uPlot/);
    const data = /<script type="application\/json" id="run-data">([^<]*)<\/script>/.exec(html);
    t.truthy(data);
    const view = JSON.parse(data![1]) as { steps: { step: number[] }; heatmap: { ranks: number[][] }; config: { model: string } };
    t.deepEqual(view.steps.step, [1, 2]);
    t.deepEqual(view.heatmap.ranks, [[2, 2], [2, 0]]);
    t.is(view.config.model, 'a "quoted", model');
    t.is(readFileSync(files.stepsCsv, 'utf8'), stepsCsv(records));
    t.is(readFileSync(files.evalsCsv, 'utf8'), evalsCsv(records));
    t.throws(() => writeRunReport(join(dir, 'out')), { message: /no metrics\.jsonl/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
