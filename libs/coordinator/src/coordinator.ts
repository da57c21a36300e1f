import { join } from 'node:path';
import type { StepReport } from '@adalora/training';
import { checkpointName, saveCheckpoint } from './checkpoint';
import { devOutputs } from './dev-outputs';
import { EpochBatches } from './epoch-batches';
import { summarizeEval, type EvalSummary } from './evaluation';
import { GradientNormGuard } from './gradient-norm-guard';
import { gradientsFromShares } from './gradient-shares';
import { listenPolicy, type ClusterSecurity } from './cluster-security';
import { ConnectionGate } from './connection-gate';
import { batchOf, type Job } from './job';
import { ModelFileServer } from './model-files';
import { replyBounds } from './reply-bounds';
import { MetricsLog, stepMetrics } from './metrics-log';
import { Progress } from './progress';
import { stateMessage, welcomeMessage } from './run-messages';
import { StepTimer } from './step-timer';
import { WorkerPool } from './worker-pool';
import { WorkerServer } from './worker-server';

/** what unlessInterrupted() resolves with once interrupt() was called */
const INTERRUPTED = Symbol('interrupted');

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
  private readonly server: WorkerServer;
  private readonly gate: ConnectionGate;
  private readonly metrics: MetricsLog;
  private readonly batches: EpochBatches;
  /** the scale of recent accepted gradients, against which an absurd share is refused */
  private readonly norms = new GradientNormGuard();
  private stopped = false;
  private interrupted = false;
  /** the step of the checkpoint written last, so an interruption right after it does not write it twice */
  private savedStep: number | null = null;
  private wakeOnInterrupt: () => void = () => {};
  private readonly interruption = new Promise<typeof INTERRUPTED>((resolve) => (this.wakeOnInterrupt = () => resolve(INTERRUPTED)));

  /** Use `Coordinator.create`: the model files are hashed before the server starts. */
  private constructor(
    private readonly job: Job,
    private readonly o: CoordinatorOptions,
    files: ModelFileServer,
  ) {
    const { host, port, stepTimeoutMs, stepTimeoutFloorMs, heartbeatMs, maxConnections, handshakeTimeoutMs, wire } = job.config.cluster;
    const security = o.security ?? { secret: null, tls: null, insecure: false };
    o.log(listenPolicy(host, security));
    this.pool = new WorkerPool({
      runId: job.runId,
      modelHash: job.modelHash,
      welcome: (workerIndex) => welcomeMessage(job, workerIndex, files.manifest),
      state: () => stateMessage(job),
      deadline: { ms: stepTimeoutMs, floorMs: stepTimeoutFloorMs },
      heartbeatMs,
      replyBounds: replyBounds(job.injected.trainables, wire, job.train.numLabels),
      log: o.log,
    });
    this.gate = new ConnectionGate(this.pool, { secret: security.secret, maxConnections, tokens: files, log: o.log });
    this.server = new WorkerServer({ host, port, tls: security.tls, handshakeTimeoutMs, files }, this.gate);
    this.pool.startHeartbeat();
    this.metrics = new MetricsLog(join(job.config.outputDir, 'metrics.jsonl'));
    if (job.config.resume) this.metrics.keepBefore(job.optimizer.step);
    this.batches = new EpochBatches(job.train.examples.length, job.config.training, job.batchesPerEpoch);
  }

  /** A coordinator for `job`; it serves the files of `job.modelDir` to authenticated workers. */
  static async create(job: Job, o: CoordinatorOptions): Promise<Coordinator> {
    return new Coordinator(job, o, await ModelFileServer.of(job.modelDir));
  }

  /** Resolves with the bound port once listening (port 0 picks a free one). */
  listening(): Promise<number> {
    return this.server.listening();
  }

  /**
   * Asks the run to stop: the step in flight is abandoned if its gradients are not all in yet
   * (the optimizer step is made at once when they are, so the state is always that of a whole
   * step), then `train()` writes `checkpoint-<step>` of the last completed step and rejects
   * with {@link RunInterrupted}. Workers are not told the run ended: closed with 'going away',
   * they reconnect to the next coordinator on this port.
   */
  interrupt(): void {
    this.interrupted = true;
    this.wakeOnInterrupt();
  }

  /**
   * Trains the whole run; returns when the final checkpoint is written. Rejects with
   * RunInterrupted once interrupt() stopped it (and its checkpoint is written).
   */
  async train(): Promise<RunResult> {
    const { job } = this;
    const { evalEvery, checkpointEvery } = job.config.training;
    const minWorkers = job.config.cluster.minWorkers;
    this.o.log(`waiting for ${minWorkers} worker(s) on ${this.server.scheme}://${job.config.cluster.host}:${this.server.boundPort}`);
    if ((await this.unlessInterrupted(this.pool.waitFor(minWorkers))) === INTERRUPTED) return this.stopEarly();
    const progress = new Progress(job.totalSteps, this.o.progressBar);
    const losses: number[] = [];
    let lastEval: EvalSummary | null = null;
    try {
      for (let step = job.optimizer.step; step < job.totalSteps && !this.interrupted; step++) {
        const ids = this.batches.of(step);
        const batch = batchOf(job.train, ids, job.padId, job.train.numLabels === 1);
        const timer = new StepTimer();
        const gathered = await this.unlessInterrupted(gradientsFromShares(this.pool, job, step, ids, batch, this.norms, this.o.log));
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
          const evaluated = await this.unlessInterrupted(this.evaluate(done));
          if (evaluated === INTERRUPTED) break;
          lastEval = evaluated;
        }
        if (!last && checkpointEvery > 0 && done % checkpointEvery === 0) await this.saveStepCheckpoint(done);
      }
    } finally {
      progress.stop();
    }
    if (this.interrupted) return this.stopEarly();
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

  // `work`, or INTERRUPTED as soon as interrupt() is called; an abandoned `work` may fail later unseen
  private async unlessInterrupted<T>(work: Promise<T>): Promise<T | typeof INTERRUPTED> {
    work.catch(() => {});
    return Promise.race([work, this.interruption]);
  }

  /** Runs the dev split on the live workers, logs its metrics and writes them to metrics.jsonl. */
  async evaluate(step: number): Promise<EvalSummary> {
    const summary = summarizeEval(this.job.dev!, await devOutputs(this.pool, this.job, this.o.log));
    const metric = this.job.config.data.metric;
    this.metrics.write({ kind: 'eval', step, metric, value: summary.metrics[metric] ?? NaN, loss: summary.loss, samples: summary.samples });
    this.o.log(`eval at step ${step}: ${Object.entries(summary.metrics).map(([k, v]) => `${k} ${(v as number).toFixed(4)}`).join(', ')}, loss ${summary.loss.toFixed(4)}`);
    return summary;
  }

  /**
   * Closes the server: at the end of a run ('finished') workers are told so and exit; when the
   * run stops early ('interrupted') their connections are only closed ('going away'), so they
   * keep trying to reconnect and rejoin a restarted coordinator (e.g. `--resume latest`).
   */
  async close(end: 'finished' | 'interrupted' = 'finished'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pool.stopHeartbeat();
    if (end === 'finished') this.pool.shutdown('COORD_RUN_FINISHED', 'run finished');
    else this.pool.disconnect('COORD_SHUTDOWN');
    await this.server.close();
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
