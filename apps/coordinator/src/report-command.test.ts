import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '@adalora/test-support';

const record = (o: Record<string, unknown>) => JSON.stringify({ time: '2026-12-02T00:00:00.000Z', runId: 'r', ...o });

test('`adalora report <run dir>` writes report.html and the CSV files into the run folder and prints the report path last; a folder without metrics is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-report-'));
  try {
    const kept = { 'bert.encoder.layer.0.attention.self.query': 2 };
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      [
        record({ kind: 'config', step: 0, config: { model: 'x' }, totalSteps: 2, batchesPerEpoch: 2, initialRanks: kept, trueRanks: null }),
        record({ kind: 'step', step: 1, epoch: 0.5, loss: 1, lr: 0.1, budget: 2, maskApplied: false, kept, samples: 4, samplesPerSecond: 8, workers: 1, totalMs: 500, computeMs: 400, sumMs: 1, optimizerMs: 49, allocationMs: 0, encodeMs: 0, transferMs: 30, waitMs: 20, bytesIn: 1000, bytesOut: 2000 }),
      ].join('\n') + '\n',
    );
    const r = await startCli(['report', dir]).done;
    t.is(r.code, 0, r.out);
    t.regex(r.out, new RegExp(`report: ${join(dir, 'report.html').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
    t.true(existsSync(join(dir, 'report.html')));
    t.is(readFileSync(join(dir, 'metrics-steps.csv'), 'utf8').split('\n')[1], '1,2026-12-02T00:00:00.000Z,0.5,r,1,0.1,2,false,4,8,1,500,400,1,49,0,0,30,20,1000,2000,2');
    const none = await startCli(['report', join(dir, 'missing')]).done;
    t.is(none.code, 1);
    t.regex(none.out, /adalora: .*missing: no metrics\.jsonl/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
