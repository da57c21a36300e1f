// One timed training run for the cluster benchmarks: a coordinator in this process and N
// local worker processes (as `adalora run` starts them), timed per step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { parseRunConfig } from '@adalora/config';
import { Coordinator, prepareJob, type StepMetrics } from '@adalora/coordinator';
import { spawnWorkerProcess } from '@adalora/worker';
import { median } from './bench-timing';

export interface TimedRun {
  /** wall seconds of each measured step (state of step k sent → state of step k+1 sent) */
  readonly stepSeconds: readonly number[];
  /** samples of the measured steps / their wall time */
  readonly samplesPerSecond: number;
  /**
   * CPU seconds per measured step of the coordinator (this process) and its workers together
   * (from /proc; NaN where there is none): unlike wall time it barely moves when other jobs
   * load the machine, so it says what a step costs when the wall times are mostly waiting.
   */
  readonly cpuSecondsPerStep: number;
  /** medians over the measured steps of the coordinator's own split (metrics.jsonl), seconds */
  readonly split: { readonly compute: number; readonly optimizer: number; readonly communication: number; readonly wait: number };
}

/**
 * Trains `config` (raw; its training.maxSteps = warmup + measured) with `workers` local worker
 * processes on `backend`; the first `warmup` steps are not timed (JIT, first allocations).
 */
export async function timedClusterRun(config: Record<string, unknown>, workers: number, warmup: number, backend: string): Promise<TimedRun> {
  const cluster = { ...((config.cluster as Record<string, unknown>) ?? {}), host: '127.0.0.1', port: 0, minWorkers: workers, backend };
  const run = parseRunConfig({ ...config, cluster });
  const job = await prepareJob(run, () => {});
  const ends: number[] = [];
  const samples: number[] = [];
  let children: ChildProcess[] = [];
  const cpuMarks: number[] = [];
  const onStep = (r: { samples: number }) => {
    ends.push(performance.now());
    samples.push(r.samples);
    cpuMarks.push(cpuSeconds(children));
  };
  const coordinator = await Coordinator.create(job, { log: () => {}, progressBar: false, onStep });
  try {
    const port = await coordinator.listening();
    children = Array.from({ length: workers }, (_, i) =>
      spawnWorkerProcess(['--coordinator', `ws://127.0.0.1:${port}`, '--backend', backend, '--id', `bench-${i}`, '--quiet', '--model', job.modelDir]),
    );
    children.forEach((c) => c.stderr?.on('data', (d: Buffer) => process.stderr.write(d)));
    await coordinator.train();
  } finally {
    await coordinator.close();
    await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((resolve) => c.once('exit', resolve)))));
    job.dispose();
  }
  // the step after the warm-up starts when the warm-up's last state is sent
  const stepSeconds = ends.slice(warmup).map((t, i) => (t - ends[warmup - 1 + i]) / 1000);
  const measuredSamples = samples.slice(warmup).reduce((a, b) => a + b, 0);
  const steps = readFileSync(join(run.outputDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StepMetrics)
    .filter((m) => m.kind === 'step')
    .slice(warmup);
  const med = (f: (m: StepMetrics) => number) => median(steps.map(f));
  return {
    stepSeconds,
    cpuSecondsPerStep: (cpuMarks.at(-1)! - cpuMarks[warmup - 1]) / stepSeconds.length,
    samplesPerSecond: measuredSamples / stepSeconds.reduce((a, b) => a + b, 0),
    split: { compute: med((m) => m.computeMs / 1000), optimizer: med((m) => (m.optimizerMs + m.allocationMs) / 1000), communication: med((m) => (m.encodeMs + m.transferMs) / 1000), wait: med((m) => (m.sumMs + m.waitMs) / 1000) },
  };
}

/** CPU seconds (user + system) used so far by this process and `children` (Linux /proc; else NaN for the children). */
function cpuSeconds(children: readonly ChildProcess[]): number {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1e6;
  for (const c of children) {
    try {
      // fields after the ")" of the command name: state is 3rd, utime 14th, stime 15th
      const fields = readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return NaN;
    }
  }
  return total;
}
/** Linux's USER_HZ, the unit of /proc/<pid>/stat times (100 on every common platform). */
const CLOCK_TICKS = 100;
