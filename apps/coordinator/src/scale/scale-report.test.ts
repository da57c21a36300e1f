import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { StepMetrics } from '@adalora/coordinator';
import { CSV_COLUMNS, formatScaleTable, scaleCsv, scaleJson, type ScaleReport } from './scale-report';
import { scaleHtml, scaleSeries, type ScaleSeries } from './scale-html';
import { scaleTable } from './scale-table';
import { readRunSteps, type StepRecord } from './step-record';

const step = (totalMs: number, computeMs: number | null, optimizerMs: number | null): StepRecord => ({
  samples: 32,
  totalMs,
  computeMs,
  sumMs: null,
  optimizerMs,
  allocationMs: null,
  encodeMs: null,
  transferMs: 2,
  waitMs: 1,
  bytesIn: null,
  bytesOut: null,
});

const measurements = [
  { workers: 1, steps: [step(100, 80, 10), step(200, 160, 20)] },
  { workers: 2, steps: [step(80, 50, 12), step(60, 40, 8)] },
  { workers: 4, steps: [step(50, 30, 9), step(50, 30, 11)] },
];
const report: ScaleReport = {
  tool: 'adalora scale',
  date: '2026-12-02T05:00:00.000Z',
  source: 'local workers (child processes)',
  splitNote: 'optimizer includes the rank allocation',
  warmupSteps: 1,
  measuredSteps: 2,
  config: { file: null, set: ['training.evalEvery=0'] },
  rows: scaleTable(measurements),
  steps: measurements.map((m) => ({ workers: m.workers, records: m.steps })),
};

test('scale.csv: the header, then one line per worker count; unmeasured parts are empty fields', (t) => {
  const lines = scaleCsv(report.rows).trimEnd().split('\n');
  t.is(lines.length, 4);
  t.deepEqual(lines[0].split(','), [...CSV_COLUMNS]);
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [CSV_COLUMNS[i], v])));
  t.deepEqual(
    rows.map((r) => r.workers),
    ['1', '2', '4'],
  );
  // 1 worker: 320 and 160 samples/s → 240; 2 workers: 400 and 533.3 → 466.7; 4 workers: 640
  t.is(Number(rows[0].samples_per_s), 240);
  t.is(Number(rows[2].samples_per_s), 640);
  t.is(Number(rows[2].speedup), 640 / 240);
  t.is(Number(rows[2].efficiency), 640 / 240 / 4);
  t.is(Number(rows[1].compute_ms), 45);
  t.is(Number(rows[1].coordinator_ms), 10);
  t.is(rows[1].sum_ms, '');
  t.is(rows[1].allocation_ms, '');
  t.is(rows[1].bytes_in, '');
  t.is(Number(rows[1].transfer_ms), 2);
});

test('scale.json: the report as it is, every measured step kept', (t) => {
  const parsed = JSON.parse(scaleJson(report)) as ScaleReport;
  t.deepEqual(parsed, report);
  t.deepEqual(
    parsed.steps.map((s) => s.records.length),
    [2, 2, 2],
  );
  t.is(parsed.rows[1].split.sumMs, null);
});

test('the printed table: one line per count, medians, IQR, dashes for unmeasured parts', (t) => {
  const lines = formatScaleTable(report.rows).split('\n');
  t.is(lines.length, 4);
  t.regex(lines[0], /^workers\s+samples\/s \[IQR\]\s+speed-up\s+efficiency/);
  t.regex(lines[1], /^1\s+240 \[200–280\]\s+1\.00×\s+100 %\s+150\.0\s+120\.0\s+15\.0\s+–\s+15\.0\s+–\s+–\s+2\.0\s+1\.0\s+–\s+–$/);
  t.regex(lines[3], /^4\s+640 \[640–640\]\s+2\.67×\s+67 %/);
});

/** The JSON series a scale.html carries for its charts. */
function pageSeries(html: string): ScaleSeries {
  const m = /<script id="scale-series" type="application\/json">(.*?)<\/script>/s.exec(html);
  if (!m) throw new Error('no series in the page');
  return JSON.parse(m[1]) as ScaleSeries;
}

test('scale.html: uPlot and its style inlined from the installed package, no network reference, one value per count in every series', (t) => {
  const html = scaleHtml(report);
  const dist = dirname(createRequire(import.meta.url).resolve('uplot'));
  t.true(html.includes(readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8')), 'uPlot.iife.min.js inlined');
  t.true(html.includes(readFileSync(join(dist, 'uPlot.min.css'), 'utf8')), 'uPlot.min.css inlined');
  // (uPlot's licence comment names its repository: a URL in a comment loads nothing)
  t.notRegex(html, /\s(src|href)=|url\(|@import/, 'nothing loaded from elsewhere');
  const s = pageSeries(html);
  t.deepEqual(s.workers, [1, 2, 4]);
  t.deepEqual(s.samplesPerSecond, report.rows.map((r) => r.samplesPerSecond.median));
  t.deepEqual(s.ideal, [240, 480, 960]);
  t.deepEqual(s.efficiency, report.rows.map((r) => r.efficiency * 100));
  // the parts some count measured, bottom first; sum, allocation, encode measured by none
  t.deepEqual(
    s.split.map((p) => p.label),
    ['compute', 'optimizer', 'transfer', 'wait'],
  );
  for (const p of s.split) t.is(p.ms.length, 3);
  t.deepEqual(s.split[0].ms, [120, 45, 30]);
  t.deepEqual(scaleSeries(report), s);
});

test('scale.html: text from the config cannot break out of the page', (t) => {
  const html = scaleHtml({ ...report, config: { file: 'a</script><b>.yaml', set: ['x=</script>'] } });
  t.false(html.includes('a</script>'));
  t.false(html.includes('x=</script>'));
  t.true(html.includes('a&lt;/script&gt;&lt;b&gt;.yaml'));
});

test("readRunSteps: a run's metrics.jsonl step lines in step order, evaluations and a torn last line skipped", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-scale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const line = (step: number, samplesPerSecond: number, workers: number): StepMetrics => ({
    kind: 'step',
    step,
    time: '2026-12-02T05:00:00.000Z',
    runId: 'r',
    epoch: step / 8,
    loss: 1,
    lr: 0.01,
    budget: null,
    maskApplied: false,
    kept: {},
    samples: 32,
    samplesPerSecond,
    workers,
    totalMs: (32 / samplesPerSecond) * 1000,
    computeMs: 50,
    sumMs: 2,
    optimizerMs: 6,
    allocationMs: 2,
    encodeMs: 1,
    transferMs: 1,
    waitMs: (32 / samplesPerSecond) * 1000 - 62,
    bytesIn: 4096,
    bytesOut: 8192,
  });
  const evalLine = { kind: 'eval', step: 1, metric: 'pearson', value: 0.9, loss: 1, samples: 512 };
  const path = join(dir, 'metrics.jsonl');
  writeFileSync(path, [line(1, 400, 2), evalLine, line(0, 320, 1)].map((l) => JSON.stringify(l)).join('\n') + '\n{"kind":"step","st');
  const run = readRunSteps(path);
  t.deepEqual(run.workers, [1, 2]);
  t.deepEqual(run.records[0], {
    samples: 32,
    totalMs: 100, // 32 samples at 320 samples/s
    computeMs: 50,
    sumMs: 2,
    optimizerMs: 6,
    allocationMs: 2,
    encodeMs: 1,
    transferMs: 1,
    waitMs: 38, // 100 − 62
    bytesIn: 4096,
    bytesOut: 8192,
  });
  t.is(run.records[1].totalMs, 80);
  t.throws(() => readRunSteps(join(dir, 'missing.jsonl')), { message: /missing\.jsonl: cannot read the run's metrics \(ENOENT\)/ });
});
