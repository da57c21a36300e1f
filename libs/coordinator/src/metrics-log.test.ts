import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepReport } from '@adalora/training';
import type { ModuleId } from '@adalora/core';
import { epochAt, MetricsLog, stepMetrics } from './metrics-log';

test('a resumed run after step N keeps the records up to N (its evaluation and events too) and drops a torn last line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-test-'));
  try {
    const path = join(dir, 'metrics.jsonl');
    const line = (kind: string, step: number) => JSON.stringify({ kind, step });
    // an interrupted run saved checkpoint-4, got to step 5 and was killed mid-line
    const before = [line('config', 0), line('step', 3), line('step', 4), line('eval', 4), line('event', 4)];
    writeFileSync(path, [...before, line('step', 5), line('eval', 5)].join('\n') + '\n{"kind":"st');
    const log = new MetricsLog(path);
    const kept = log.keepBefore(4);
    t.is(readFileSync(path, 'utf8'), before.join('\n') + '\n');
    t.deepEqual(kept, before.map((l) => JSON.parse(l)), 'what was kept is what the status page starts from');
    log.keepBefore(0);
    t.is(readFileSync(path, 'utf8'), '', 'a resume with no checkpoint starts over');
    const absent = new MetricsLog(join(dir, 'none', 'metrics.jsonl'));
    t.notThrows(() => absent.keepBefore(4), 'nothing to keep when the run never wrote any');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a resume mark of an earlier resume is kept up to the new resume point, one past it dropped, like the steps after it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-test-'));
  try {
    const path = join(dir, 'metrics.jsonl');
    const step = (n: number) => JSON.stringify({ kind: 'step', step: n });
    // resume(N): a run resumed from checkpoint-N (N steps done) took over here
    const resume = (n: number) => JSON.stringify({ kind: 'resume', step: n, from: `out/checkpoint-${n}` });
    writeFileSync(path, [step(1), step(2), resume(2), step(3), step(4), resume(4), step(5), step(6)].join('\n') + '\n');
    const log = new MetricsLog(path);
    log.keepBefore(3);
    const mark = { kind: 'resume', step: 3, time: 't', runId: 'r', from: 'out/checkpoint-3' } as const;
    log.write(mark);
    t.is(readFileSync(path, 'utf8'), [step(1), step(2), resume(2), step(3), JSON.stringify(mark)].join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a step record counts steps done (1-based, as log lines, evaluations and checkpoint names) and carries time, epoch, run id and maskApplied', (t) => {
  const report: StepReport = { step: 3, samples: 32, loss: 0.5, lr: 0.01, budget: 12, maskApplied: true, kept: new Map([['m' as ModuleId, 2]]), phaseMs: { mean: 1, optimizer: 2, allocation: 3 } };
  const times = { totalMs: 2000, computeMs: 1000, sumMs: 100, optimizerMs: 300, allocationMs: 50, encodeMs: 50, transferMs: 250, waitMs: 250, bytesIn: 10, bytesOut: 20 };
  const now = new Date('2026-12-02T05:00:00.000Z');
  const m = stepMetrics(report, times, 2, { runId: 'abc', batchesPerEpoch: 8, now });
  t.is(m.step, 4, 'the report of step index 3 is the 4th step');
  t.is(m.epoch, 0.5);
  t.is(m.time, '2026-12-02T05:00:00.000Z');
  t.is(m.runId, 'abc');
  t.true(m.maskApplied);
  t.deepEqual(m.kept, { m: 2 });
  t.is(m.samplesPerSecond, 16);
  t.is(epochAt(1, 3), 0.3333);
});

test('the log holds what it wrote, for the status page', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-test-'));
  try {
    const log = new MetricsLog(join(dir, 'sub', 'metrics.jsonl'));
    const event = { kind: 'event', step: 0, time: 'x', runId: 'r', event: 'checkpoint', detail: 'saved' } as const;
    log.write(event);
    t.deepEqual(log.records, [event]);
    t.deepEqual(JSON.parse(readFileSync(log.path, 'utf8')), event);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
