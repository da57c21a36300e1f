import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsLog } from './metrics-log';

test('a resumed run keeps the lines before its step (evaluations up to it) and drops a torn last line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-test-'));
  try {
    const path = join(dir, 'metrics.jsonl');
    const line = (kind: string, step: number) => JSON.stringify({ kind, step });
    // an interrupted run got to step 5 after its checkpoint at step 4, and was killed mid-line
    writeFileSync(path, [line('step', 3), line('eval', 4), line('step', 4), line('step', 5), line('eval', 6)].join('\n') + '\n{"kind":"st');
    const log = new MetricsLog(path);
    log.keepBefore(4);
    t.is(readFileSync(path, 'utf8'), [line('step', 3), line('eval', 4)].join('\n') + '\n');
    log.keepBefore(0);
    t.is(readFileSync(path, 'utf8'), '');
    const absent = new MetricsLog(join(dir, 'none', 'metrics.jsonl'));
    t.notThrows(() => absent.keepBefore(4), 'nothing to keep when the run never wrote any');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a resume mark of an earlier resume is kept up to the new resume point, one past it dropped, like the steps it preceded", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-test-'));
  try {
    const path = join(dir, 'metrics.jsonl');
    const step = (n: number) => JSON.stringify({ kind: 'step', step: n });
    const resume = (n: number) => JSON.stringify({ kind: 'resume', step: n, from: `out/checkpoint-${n}` });
    writeFileSync(path, [step(0), step(1), resume(2), step(2), step(3), resume(4), step(4), step(5)].join('\n') + '\n');
    const log = new MetricsLog(path);
    log.keepBefore(3);
    log.write({ kind: 'resume', step: 3, from: 'out/checkpoint-3' });
    t.is(readFileSync(path, 'utf8'), [step(0), step(1), resume(2), step(2), JSON.stringify({ kind: 'resume', step: 3, from: 'out/checkpoint-3' })].join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
