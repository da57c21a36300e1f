import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeasureRequest, MeasurementSource } from './measurement-source';
import { scaleCsv, type ScaleReport } from './scale-report';
import { runScale } from './scale-command';
import { scaleTable, type Measurement } from './scale-table';
import type { StepRecord } from './step-record';

/** A source that answers from memory, as synthetic workers or a simulator would plug in. */
class RecordedSource implements MeasurementSource {
  readonly description = 'recorded steps';
  readonly requests: MeasureRequest[] = [];
  constructor(private readonly byWorkers: ReadonlyMap<number, Measurement>) {}
  async measure(r: MeasureRequest): Promise<Measurement> {
    this.requests.push(r);
    return this.byWorkers.get(r.workers)!;
  }
  stop(): void {}
}

const step = (totalMs: number): StepRecord => ({
  samples: 64,
  totalMs,
  computeMs: totalMs * 0.5,
  sumMs: 3,
  optimizerMs: 4,
  allocationMs: 1,
  encodeMs: 2,
  transferMs: 5,
  waitMs: totalMs * 0.5 - 15,
  bytesIn: 16_000_000,
  bytesOut: 8_000_000,
});

test('runScale: asks the source for each count in turn, writes the table of what it answered, warns of steps served by another worker count', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-run-scale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const measurements = new Map<number, Measurement>([
    [8, { workers: 8, steps: [step(200), step(220), step(210)] }],
    [32, { workers: 32, steps: [step(300), step(320), step(310)], workersSeen: [32, 31, 32] }],
  ]);
  const source = new RecordedSource(measurements);
  const logged: string[] = [];
  const report = await runScale(source, { workers: [8, 32], warmup: 2, steps: 3, output: dir, config: undefined, set: ['a.b=1'] }, (l) => logged.push(l));
  t.deepEqual(source.requests, [
    { workers: 8, warmupSteps: 2, steps: 3 },
    { workers: 32, warmupSteps: 2, steps: 3 },
  ]);
  t.true(logged.some((l) => /warning: 1 of the 3 measured steps at 32 worker\(s\) were served by another number of workers/.test(l)));
  const expected = scaleTable([...measurements.values()]);
  t.deepEqual(report.rows, expected);
  t.is(readFileSync(join(dir, 'scale.csv'), 'utf8'), scaleCsv(expected));
  const json = JSON.parse(readFileSync(join(dir, 'scale.json'), 'utf8')) as ScaleReport;
  t.is(json.source, 'recorded steps');
  t.deepEqual(json.config, { file: null, set: ['a.b=1'] });
  t.deepEqual(json.rows, expected);
  // 32 workers: 64 samples in 310 ms against 210 ms at 8
  t.true(Math.abs(json.rows[1].efficiency - 210 / 310 / 4) < 1e-12);
  t.is(json.rows[1].split.coordinatorMs, 10);
  t.is(json.rows[1].bytesIn, 16_000_000);
  t.regex(readFileSync(join(dir, 'scale.html'), 'utf8'), /"workers":\[8,32\]/);
});
