import { parseRunConfig, type BackendChoice } from '@adalora/config';
import { Coordinator, prepareJob, type Job } from '@adalora/coordinator';
import { runWorkerClient } from '@adalora/worker';
import { COMPARE_TARGETS, type CompareTask } from './compare-tasks';

/** One arm of the comparison: LoRA at rank r, or AdaLoRA pruning from initR to targetR. */
export type CompareMethod = { readonly mode: 'lora'; readonly r: number } | { readonly mode: 'adalora'; readonly initR: number; readonly targetR: number };

/** Training settings every run of a comparison shares. */
export interface CompareTraining {
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  /** in-process workers (loopback WebSockets) */
  readonly workers: number;
  readonly backend: BackendChoice;
}

export interface CompareRunResult {
  /** dev Pearson r of the final adapter */
  readonly pearson: number;
  /** dev MSE of the final adapter */
  readonly devLoss: number;
  /** kept rank per adapted matrix at the end (LoRA: r everywhere) */
  readonly keptRanks: ReadonlyMap<string, number>;
  /** A and B values of the kept ranks: Σ kept × (in + out) */
  readonly abValues: number;
  /** AdaLoRA's kept singular values (one per kept rank); 0 for LoRA */
  readonly eValues: number;
  readonly seconds: number;
}

/**
 * AdaLoRA's schedule as a share of the run, as the built-in job has it (768 steps: 128 at full
 * rank, pruning until step 512, 256 at the final ranks).
 */
export function adaloraSchedule(steps: number): { tinit: number; tfinal: number; deltaT: number } {
  return { tinit: Math.round(steps / 6), tfinal: Math.round(steps / 3), deltaT: Math.max(1, Math.round(steps / 96)) };
}

/** The run config of one arm on one task with one seed (raw, as a config file would hold it). */
export function compareRunConfig(task: CompareTask, method: CompareMethod, seed: number, t: CompareTraining, outputDir: string): Record<string, unknown> {
  const initR = method.mode === 'lora' ? method.r : method.initR;
  const adalora = {
    mode: method.mode,
    init_r: initR,
    ...(method.mode === 'adalora' && { target_r: method.targetR, orth_reg_weight: 0.3, ...adaloraSchedule(t.steps) }),
    // scaling lora_alpha / init_r = 2 for both methods (the built-in job's 12 / 6)
    lora_alpha: 2 * initR,
    target_modules: [...COMPARE_TARGETS],
  };
  return {
    model: task.modelDir,
    ...(task.tokenizer !== undefined && { tokenizer: task.tokenizer }),
    outputDir,
    data: { train: task.trainFile, dev: task.devFile, format: task.format, textColumn: 'sentence', task: 'regression', metric: 'pearson' },
    adalora,
    training: {
      batchSize: t.batchSize,
      epochs: 1000,
      maxSteps: t.steps,
      lr: t.lr,
      schedule: 'linear',
      warmupSteps: Math.round(t.steps / 96),
      microBatch: t.batchSize,
      evalEvery: 0,
      checkpointEvery: 0,
      seed,
    },
    cluster: { backend: t.backend, host: '127.0.0.1', port: 0, minWorkers: t.workers },
  };
}

/** Trains one arm with a coordinator and `workers` workers in this process, over loopback. */
export async function runCompareArm(task: CompareTask, method: CompareMethod, seed: number, t: CompareTraining, outputDir: string): Promise<CompareRunResult> {
  const started = performance.now();
  const config = parseRunConfig(compareRunConfig(task, method, seed, t, outputDir));
  const quiet = () => {};
  const job = await prepareJob(config, quiet);
  try {
    const coordinator = await Coordinator.create(job, { log: quiet, progressBar: false });
    try {
      const port = await coordinator.listening();
      const workers = Array.from({ length: t.workers }, (_, i) =>
        runWorkerClient({ url: `ws://127.0.0.1:${port}`, workerId: `compare-${i}`, backend: t.backend, secret: null, modelDir: job.modelDir, giveUpAfterMs: 60_000, initialDelayMs: 50, maxDelayMs: 500, log: quiet }),
      );
      const result = await coordinator.train();
      await coordinator.close();
      const exits = await Promise.all(workers);
      const failed = exits.find((e) => !e.ok);
      if (failed) throw new Error(`a worker of the ${method.mode} run failed: ${failed.reason}`);
      if (!result.finalEval) throw new Error(`the ${method.mode} run has no final evaluation`);
      const keptRanks = keptRanksOf(job, result.rankPattern, method);
      const { abValues, eValues } = adapterValues(job, keptRanks, method.mode);
      return { pearson: result.finalEval.metrics.pearson ?? NaN, devLoss: result.finalEval.loss, keptRanks, abValues, eValues, seconds: (performance.now() - started) / 1000 };
    } finally {
      await coordinator.close();
    }
  } finally {
    job.dispose();
  }
}

/** Kept rank per matrix: AdaLoRA's final rank pattern; LoRA's r. */
function keptRanksOf(job: Job, pattern: ReadonlyMap<string, readonly boolean[]> | null, method: CompareMethod): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, adapter] of job.injected.adapters) {
    if (method.mode === 'lora') out.set(id, adapter.rank);
    else {
      const kept = pattern?.get(id);
      if (!kept) throw new Error(`AdaLoRA run ended without a rank pattern for ${id}`);
      out.set(id, kept.filter(Boolean).length);
    }
  }
  return out;
}

/** The trainable adapter values a kept-rank pattern leaves: Σ kept × (in + out) for A and B, plus AdaLoRA's E. */
export function adapterValues(job: Pick<Job, 'injected'>, kept: ReadonlyMap<string, number>, mode: 'lora' | 'adalora'): { abValues: number; eValues: number } {
  let abValues = 0;
  let eValues = 0;
  for (const [id, adapter] of job.injected.adapters) {
    const r = kept.get(id) ?? 0;
    abValues += r * (adapter.inFeatures + adapter.outFeatures);
    if (mode === 'adalora') eValues += r;
  }
  return { abValues, eValues };
}
