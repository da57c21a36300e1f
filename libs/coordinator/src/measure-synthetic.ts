import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSyntheticWorkers, spawnWorkerProcess, type WorkerExit } from '@adalora/worker';
import type { TransferBuffers } from '@adalora/protocol';
import { Coordinator } from './coordinator';
import type { Job } from './job';
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
  /**
   * where the synthetic connections run: in this process (default; they share its thread with
   * the coordinator) or in one child process (`adalora worker --synthetic --connections K`), so
   * that their own work (encoding the shares, reading the state) runs beside the coordinator's
   */
  readonly workersIn?: 'this-process' | 'child-process';
  readonly log?: (line: string) => void;
  /** memory for the in-process synthetic workers' reassembled messages (default: a pool of their own) */
  readonly workerTransferBuffers?: TransferBuffers;
  /** called with the job after its last step, before it is disposed (to read the trained adapter) */
  readonly trained?: (job: Job) => void;
}

/**
 * Connection attempts per synthetic worker: the coordinator holds at most 32 connections in
 * their handshake at once and closes the oldest beyond that, so 128 connecting together retry.
 */
const CONNECT_RETRIES = 30;

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
    const url = `ws://127.0.0.1:${port}`;
    const workers = o.workersIn === 'child-process' ? childWorkers(url, o) : runSyntheticWorkers({
      url,
      connections: o.workers,
      sampleMs: o.sampleMs,
      idPrefix: 'synthetic',
      secret: null,
      maxRetries: CONNECT_RETRIES,
      giveUpAfterMs: 60_000,
      initialDelayMs: 100,
      maxDelayMs: 1_000,
      log,
      ...(o.workerTransferBuffers && { transferBuffers: o.workerTransferBuffers }),
    });
    try {
      await coordinator.train();
    } finally {
      await coordinator.close('finished');
    }
    const failed = (await workers).filter((e) => !e.ok);
    if (failed.length > 0) throw new Error(`measureSynthetic: ${failed.length} synthetic worker(s) failed: ${failed[0].reason}`);
    o.trained?.(job);
    const records = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { kind: string; step: number });
    // step numbers start at 1: the warm-up is the first `warmupSteps` step lines, whatever their numbers
    const steps = records.filter((r) => r.kind === 'step').sort((a, b) => a.step - b.step);
    if (steps.length !== o.warmupSteps + o.steps) throw new Error(`measureSynthetic: the run wrote ${steps.length} step lines, expected ${o.warmupSteps + o.steps}`);
    return steps.slice(o.warmupSteps).map(stepSplitOf);
  } finally {
    job.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `adalora worker --synthetic --connections K` as a child process; resolves with one exit for all. */
function childWorkers(url: string, o: MeasureSyntheticOptions): Promise<WorkerExit[]> {
  const child = spawnWorkerProcess(['--synthetic', '--connections', String(o.workers), '--sample-ms', String(o.sampleMs), '--coordinator', url, '--id', 'synthetic', '--retries', String(CONNECT_RETRIES), '--quiet']);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve([code === 0 ? { ok: true, reason: 'exited 0' } : { ok: false, reason: `synthetic worker process exited ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}` }]));
  });
}
