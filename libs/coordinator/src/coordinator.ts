import { join } from 'node:path';
import type { StepReport } from '@adalora/training';
import { checkpointName, saveCheckpoint } from './checkpoint';
import { devOutputs } from './dev-outputs';
import { EpochBatches } from './epoch-batches';
import { summarizeEval, type EvalSummary } from './evaluation';
import { formatMetrics } from './metric-format';
import { summarizeQaEval } from './qa-evaluation';
import { GradientNormGuard } from './gradient-norm-guard';
import { gradientsFromShares } from './gradient-shares';
import { Interruption, INTERRUPTED } from './interruption';
import type { ClusterSecurity } from './cluster-security';
import { batchOf, type Job } from './job';
import { MetricsLog, stepMetrics } from './metrics-log';
import { Progress } from './progress';
import { stateMessage } from './run-messages';
import { StepTimer } from './step-timer';
import { WorkerCluster } from './worker-cluster';
import type { WorkerPool } from './worker-pool';

/** train() stopped by interrupt(): the global steps done, and the checkpoint holding them (null at step 0). */
export class RunInterrupted extends Error {
  constructor(
    readonly step: number,
    readonly checkpointDir: string | null,
  ) {
    super(checkpointDir ? `interrupted after step ${step}: saved ${checkpointDir}` : 'interrupted before the first step: nothing to save');
  }
}

/** without a progress bar (not a TTY, e.g. under pm2), a log line every this many steps */
const LOG_EVERY = 10;

export interface CoordinatorOptions {
  readonly log: (line: string) => void;
  readonly progressBar: boolean;
  /** called after every global step, once its state went out to the workers */
  readonly onStep?: (report: StepReport) => void;
  /** the run secret, TLS and --insecure (see loadClusterSecurity); none: loopback only */
  readonly security?: ClusterSecurity;
}

/** What a finished run hands back. */
export interface RunResult {
  readonly steps: number;
  readonly losses: readonly number[];
  readonly finalEval: EvalSummary | null;
  readonly adapterDir: string;
  readonly rankPattern: ReadonlyMap<string, readonly boolean[]> | null;
}

/**
 * The coordinator: accepts workers over WebSocket, shards every global batch among the live
 * ones, makes the global step once (mean gradient → AdamW → rank allocation) and sends the new
 * adapter state to every worker, so all workers hold the same adapter at every step.
 */
export class Coordinator {
  private readonly pool: WorkerPool;
  private readonly metrics: MetricsLog;
  private readonly batches: EpochBatches;
  /** the scale of recent accepted gradients, against which an absurd share is refused */
  private readonly norms = new GradientNormGuard();
  private readonly interruption = new Interruption();
  /** the step of the checkpoint written last, so an interruption right after it does not write it twice */
  private savedStep: number | null = null;

  /** Use `Coordinator.create`: the model files are hashed before the port opens. */
  private constructor(
    private readonly job: Job,
    private readonly o: CoordinatorOptions,
    private readonly cluster: WorkerCluster,
  ) {
    this.pool = cluster.pool;
    this.metrics = new MetricsLog(join(job.config.outputDir, 'metrics.jsonl'));
    if (job.config.resume) this.metrics.keepBefore(job.optimizer.step);
    this.batches = new EpochBatches(job.train.examples.length, job.config.training, job.batchesPerEpoch);
  }

  /** A coordinator for `job`; it serves the files of `job.modelDir` to authenticated workers. */
  static async create(job: Job, o: CoordinatorOptions): Promise<Coordinator> {
    return new Coordinator(job, o, await WorkerCluster.open(job, o.security, o.log));
  }

  /** Resolves with the bound port once listening (port 0 picks a free one). */
  listening(): Promise<number> {
    return this.cluster.listening();
  }

  /**
   * Asks the run to stop: the step in flight is abandoned if its gradients are not all in yet
   * (the optimizer step is made at once when they are, so the state is always that of a whole
   * step), then `train()` writes `checkpoint-<step>` of the last completed step and rejects
   * with {@link RunInterrupted}. Workers are not told the run ended: closed with 'going away',
   * they reconnect to the next coordinator on this port.
   */
  interrupt(): void {
    this.interruption.request();
  }

  /**
   * Trains the whole run; returns when the final checkpoint is written. Rejects with
   * RunInterrupted once interrupt() stopped it (and its checkpoint is written).
   */
  async train(): Promise<RunResult> {
    const { job } = this;
    const { evalEvery, checkpointEvery } = job.config.training;
    const minWorkers = job.config.cluster.minWorkers;
    this.o.log(`waiting for ${minWorkers} worker(s) on ${this.cluster.address(job.config.cluster.host)}`);
    if ((await this.interruption.unless(this.pool.waitFor(minWorkers))) === INTERRUPTED) return this.stopEarly();
    const progress = new Progress(job.totalSteps, this.o.progressBar);
    const losses: number[] = [];
    let lastEval: EvalSummary | null = null;
    try {
      for (let step = job.optimizer.step; step < job.totalSteps && !this.interruption.requested; step++) {
        const ids = this.batches.of(step);
        const batch = batchOf(job.train, ids, job.padId, job.train.numLabels === 1);
        const timer = new StepTimer();
        const gathered = await this.interruption.unless(gradientsFromShares(this.pool, job, step, ids, batch, this.norms, this.o.log));
        if (gathered === INTERRUPTED) break;
        const { sums, computeMs, workers } = gathered;
        timer.gradientsGathered();
        const report = job.optimizer.apply(sums);
        timer.optimizerApplied();
        this.pool.broadcast(stateMessage(job));
        const times = timer.stateSent(computeMs);
        losses.push(report.loss);
        this.o.onStep?.(report);
        this.metrics.write(stepMetrics(report, times, workers));
        this.report(progress, report, times.total);

        const done = step + 1;
        const last = done === job.totalSteps;
        if (job.dev && (last || (evalEvery > 0 && done % evalEvery === 0))) {
          const evaluated = await this.interruption.unless(this.evaluate(done));
          if (evaluated === INTERRUPTED) break;
          lastEval = evaluated;
        }
        if (!last && checkpointEvery > 0 && done % checkpointEvery === 0) await this.saveStepCheckpoint(done);
      }
    } finally {
      progress.stop();
    }
    if (this.interruption.requested) return this.stopEarly();
    const finalDir = join(job.config.outputDir, 'final');
    await saveCheckpoint(finalDir, job, { step: job.totalSteps, finalEval: lastEval }, this.o.log);
    this.o.log(`saved the final adapter to ${join(finalDir, 'adapter')}`);
    return { steps: job.totalSteps, losses, finalEval: lastEval, adapterDir: join(finalDir, 'adapter'), rankPattern: job.optimizer.rankPattern() };
  }

  // writes the checkpoint of the last completed step (unless the loop just did), then throws RunInterrupted
  private async stopEarly(): Promise<never> {
    const step = this.job.optimizer.step;
    if (step === 0) throw new RunInterrupted(0, null);
    const dir = join(this.job.config.outputDir, checkpointName(step));
    if (this.savedStep !== step) await this.saveStepCheckpoint(step);
    throw new RunInterrupted(step, dir);
  }

  // checkpoint-<step>: the state after `step` optimizer steps
  private async saveStepCheckpoint(step: number): Promise<void> {
    await saveCheckpoint(join(this.job.config.outputDir, checkpointName(step)), this.job, { step, epoch: this.batches.epochOf(step - 1) }, this.o.log);
    this.savedStep = step;
  }

  /** Runs the dev split on the live workers, logs its metrics and writes them to metrics.jsonl. */
  async evaluate(step: number): Promise<EvalSummary> {
    const { dev, qaDev } = this.job;
    const outputs = await devOutputs(this.pool, this.job, this.o.log);
    const summary = qaDev ? summarizeQaEval(qaDev, dev!, outputs) : summarizeEval(dev!, outputs);
    const metric = this.job.config.data.metric;
    const line = { kind: 'eval', step, metric, value: summary.metrics[metric] ?? NaN, loss: summary.loss, samples: summary.samples } as const;
    // QA: every SQuAD score (em, f1, v2's HasAns_*, NoAns_*) beside the chosen one
    this.metrics.write(qaDev ? { ...line, scores: summary.metrics } : line);
    this.o.log(`eval at step ${step}: ${formatMetrics(summary.metrics)}, loss ${summary.loss.toFixed(4)}`);
    return summary;
  }

  /** Closes the port; see {@link WorkerCluster.close}. */
  close(end: 'finished' | 'interrupted' = 'finished'): Promise<void> {
    return this.cluster.close(end);
  }

  private report(progress: Progress, report: StepReport, seconds: number): void {
    const { totalSteps } = this.job;
    const done = report.step + 1;
    progress.update(done, report.loss, report.samples / seconds, report.budget);
    if (!this.o.progressBar && (done % LOG_EVERY === 0 || done === totalSteps)) {
      this.o.log(`step ${done}/${totalSteps} loss ${report.loss.toFixed(4)} lr ${report.lr.toExponential(2)} budget ${report.budget ?? '-'} (${this.pool.ready.length} workers)`);
    }
  }
}
