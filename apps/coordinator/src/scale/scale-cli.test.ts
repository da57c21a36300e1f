import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shortBuiltinConfig, startCli, stepLosses } from '@adalora/test-support';
import type { ScaleReport } from './scale-report';
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
});
