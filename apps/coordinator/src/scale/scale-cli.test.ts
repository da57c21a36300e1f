import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortBuiltinConfig, startCli, stepLosses } from '@adalora/test-support';
import { CSV_COLUMNS, type ScaleReport } from './scale-report';
import { readRunSteps } from './step-record';

test('`adalora scale --workers 1,2` on the short built-in job: the table printed, scale.csv/json/html written from the runs\' own step records', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-scale-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'short.json');
  writeFileSync(config, JSON.stringify(shortBuiltinConfig(join(dir, 'unused'))));
  const out = join(dir, 'scale');
  const r = await startCli(['scale', '-c', config, '--workers', '1,2', '--warmup', '1', '--steps', '2', '-o', out, '--worker-backend', 'wasm']).done;
  t.is(r.code, 0, r.out.slice(-3000));
  t.regex(r.out, /^workers\s+samples\/s \[IQR\]\s+speed-up\s+efficiency\s+step ms\s+compute\s+coord/m);
  t.regex(r.out, /^1\s+\d+ \[\d+–\d+\]\s+1\.00×\s+100 %/m);
  t.regex(r.out, /^2\s+\d+ \[\d+–\d+\]\s+\d+\.\d\d×\s+\d+ %/m);
  for (const f of ['scale.csv', 'scale.json', 'scale.html']) t.true(existsSync(join(out, f)), f);
  t.is(readFileSync(join(out, 'scale.csv'), 'utf8').trimEnd().split('\n').length, 3);

  const report = JSON.parse(readFileSync(join(out, 'scale.json'), 'utf8')) as ScaleReport;
  t.deepEqual(
    report.rows.map((row) => [row.workers, row.steps]),
    [
      [1, 2],
      [2, 2],
    ],
  );
  for (const workers of [1, 2]) {
    const runDir = join(out, 'runs', `workers-${workers}`);
    // the warm-up step, then the 2 measured ones, as the run wrote them
    const run = readRunSteps(join(runDir, 'metrics.jsonl'));
    t.is(run.records.length, 3);
    t.deepEqual(run.workers, [workers, workers, workers]);
    t.deepEqual(report.steps.find((s) => s.workers === workers)?.records, run.records.slice(1));
  }
  // both counts trained the same config: same losses bit for bit (gradients summed in a fixed order)
  t.deepEqual(stepLosses(join(out, 'runs/workers-2')), stepLosses(join(out, 'runs/workers-1')));
});

test('`adalora scale` refuses bad worker lists and a bad config before any run starts', async (t) => {
  const dup = await startCli(['scale', '--workers', '1,2,1']).done;
  t.is(dup.code, 1);
  t.regex(dup.out, /each worker count once, got 1,2,1/);
  const zero = await startCli(['scale', '--workers', '0,2']).done;
  t.is(zero.code, 1);
  t.regex(zero.out, /worker counts >= 1, e\.g\. 1,2,4; got '0'/);
  const bad = await startCli(['scale', '--workers', '1', '-s', 'training.lr=-1']).done;
  t.is(bad.code, 1);
  t.regex(bad.out, /'training\.lr' must be > 0/);
  t.notRegex(bad.out, /measuring/);
  const simulate = await startCli(['scale', '--workers', '1', '--simulate']).done;
  t.is(simulate.code, 1);
  t.regex(simulate.out, /--simulate models the synthetic-worker set-up on this machine: add --synthetic/);
  const predict = await startCli(['scale', '--synthetic', '--workers', '2', '--predict', '1024']).done;
  t.is(predict.code, 1);
  t.regex(predict.out, /--predict gives counts for the simulator: add --simulate/);
  const rows = await startCli(['scale', '--synthetic', '--workers', '2,8', '--batch-size', '4']).done;
  t.is(rows.code, 1);
  t.regex(rows.out, /--batch-size 4 gives some of the 8 workers no rows/);
  t.notRegex(predict.out + rows.out, /measuring/);
});

test('`adalora scale --synthetic --preset tiny-r4 --workers 2,4 --runs 2 --simulate --predict 64`: every split field measured, each run beside its prediction and a predicted-only row', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-scale-synthetic-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await startCli(['scale', '--synthetic', '--preset', 'tiny-r4', '--workers', '2,4', '--warmup', '1', '--steps', '2', '--runs', '2', '--simulate', '--predict', '64', '-o', dir]).done;
  t.is(r.code, 0, r.out.slice(-3000));
  for (const f of ['scale.csv', 'scale.json', 'scale.html', 'scale-prediction.csv']) t.true(existsSync(join(dir, f)), f);
  const csv = readFileSync(join(dir, 'scale.csv'), 'utf8').trimEnd().split('\n');
  t.deepEqual(csv[0].split(','), [...CSV_COLUMNS]);
  t.is(csv.length, 3);
  // synthetic runs measure every part: no empty field, prediction columns included
  for (const line of csv.slice(1)) t.false(line.split(',').some((v) => v === ''), line);
  const table = r.out.slice(r.out.indexOf('\nworkers  samples/s')).split('\nmedians over')[0];
  t.regex(table, /^4\s/m);
  t.notRegex(table, /\s–(\s|$)/m);

  const report = JSON.parse(readFileSync(join(dir, 'scale.json'), 'utf8')) as ScaleReport;
  t.regex(report.source, /synthetic workers .*tiny-r4/);
  for (const s of report.steps) {
    // two runs of two measured steps, pooled
    t.is(s.records.length, 4);
    // --rows-per-worker defaults to 8: the global batch is 8 × workers
    for (const rec of s.records) t.is(rec.samples, 8 * s.workers);
  }
  const p = report.prediction;
  t.truthy(p);
  t.deepEqual(
    p?.rows.map((row) => [row.workers, row.measured, row.measuredMs === null, row.error === null, row.costDrift === null]),
    [
      [2, true, false, false, false],
      [4, true, false, false, false],
      [64, false, true, true, true],
    ],
  );
  for (const row of p?.rows ?? []) {
    t.true(row.predictedMs > 0 && row.flatMs > 0 && row.aggregatedMs > 0, JSON.stringify(row));
    if (row.measuredMs === null) {
      t.deepEqual(row.runErrors, []);
      continue;
    }
    // each run against its own steps: its prediction is its median step × (1 + its error); the row gives the medians
    const records = report.steps.find((s) => s.workers === row.workers)?.records ?? [];
    const runMedians = [0, 2].map((i) => (records[i].totalMs + records[i + 1].totalMs) / 2);
    t.is(row.runErrors.length, 2);
    const predicted = runMedians.map((m, i) => m * (1 + row.runErrors[i]));
    t.true(Math.abs(row.predictedMs - (predicted[0] + predicted[1]) / 2) < 1e-6 * row.predictedMs, `${row.predictedMs} against ${predicted}`);
    t.true(Math.abs((row.error as number) - (row.runErrors[0] + row.runErrors[1]) / 2) < 1e-12, `${row.error} against ${row.runErrors}`);
    t.true(Number.isFinite(row.costDrift), 'costs measured before and after each run');
  }
  t.regex(r.out, /machine costs after 4 worker\(s\), run 2 of 2:/);
  t.is(p?.rows[2].aggregators, 8);
  t.regex(r.out, /^64\s+predicted only\s/m);
  t.regex(readFileSync(join(dir, 'scale-prediction.csv'), 'utf8'), /^64,predicted,,/m);
  t.regex(readFileSync(join(dir, 'scale.html'), 'utf8'), /Simulator beside the measurement/);
});
