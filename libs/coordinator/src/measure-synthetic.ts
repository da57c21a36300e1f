import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSyntheticWorkers } from '@adalora/worker';
import { Coordinator } from './coordinator';
import { stepSplitOf, type StepSplit } from './step-split';
import { prepareSyntheticJob } from './synthetic-job';
import type { SyntheticPresetName } from './synthetic-presets';

export interface MeasureSyntheticOptions {
  readonly preset: SyntheticPresetName;
  /** synthetic workers, each on its own connection */
  readonly workers: number;
  /** compute time per sample on a worker (ms) */
  readonly sampleMs: number;
  /** the global batch (rows per step) */
  readonly batchSize: number;
  /** rows per micro-batch (default: the batch split evenly, at least 1) */
  readonly microBatch?: number;
  /** steps run first and left out of the result */
  readonly warmupSteps: number;
  /** steps measured */
  readonly steps: number;
  readonly wire?: 'float64' | 'float32' | 'float16';
  readonly log?: (line: string) => void;
}

/**
 * Runs a synthetic job (see prepareSyntheticJob) on a coordinator in this process with
 * `workers` synthetic connections to it (the real protocol over loopback WebSocket), and returns
 * the time split of each measured step, as metrics.jsonl recorded it. Its files go to a
 * temporary folder that is removed afterwards.
 */
export async function measureSynthetic(o: MeasureSyntheticOptions): Promise<StepSplit[]> {
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) throw new Error(`measureSynthetic: warmupSteps must be an integer >= 0, got ${o.warmupSteps}`);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`measureSynthetic: steps must be an integer >= 1, got ${o.steps}`);
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'adalora-synthetic-'));
  const job = prepareSyntheticJob(
    {
      preset: o.preset,
      steps: o.warmupSteps + o.steps,
      batchSize: o.batchSize,
      microBatch: o.microBatch ?? Math.max(1, Math.floor(o.batchSize / o.workers)),
      outputDir: dir,
      minWorkers: o.workers,
      wire: o.wire,
    },
    log,
  );
  try {
    const coordinator = await Coordinator.create(job, { log, progressBar: false });
    const port = await coordinator.listening();
    const workers = runSyntheticWorkers({
      url: `ws://127.0.0.1:${port}`,
      connections: o.workers,
      sampleMs: o.sampleMs,
      idPrefix: 'synthetic',
      secret: null,
      maxRetries: 5,
      giveUpAfterMs: 60_000,
      initialDelayMs: 100,
      maxDelayMs: 1_000,
      log,
    });
    try {
      await coordinator.train();
    } finally {
      await coordinator.close('finished');
    }
    const failed = (await workers).filter((e) => !e.ok);
    if (failed.length > 0) throw new Error(`measureSynthetic: ${failed.length} synthetic worker(s) failed: ${failed[0].reason}`);
    const records = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { kind: string; step: number });
    return records.filter((r) => r.kind === 'step' && r.step >= o.warmupSteps).map(stepSplitOf);
  } finally {
    job.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
