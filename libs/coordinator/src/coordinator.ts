import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepReport } from '@adalora/training';
import { nativeFrameMasking } from '@adalora/protocol';
import { BestTracker, finalVsBestWarning, type BestEval } from './best-adapter';
import { checkpointName, saveCheckpoint } from './checkpoint';
import { pruneCheckpoints } from './checkpoint-retention';
import { devOutputs } from './dev-outputs';
import { EpochBatches } from './epoch-batches';
import { summarizeEval, type EvalSummary } from './evaluation';
import { formatMetrics } from './metric-format';
import { summarizeQaEval } from './qa-evaluation';
import { GradientNormGuard } from './gradient-norm-guard';
import { GradientAccumulator } from './gradient-accumulator';
import { gradientsFromShares } from './gradient-shares';
import { Interruption, INTERRUPTED } from './interruption';
import { prepareWhile } from './prepare-while';
import type { ClusterSecurity } from './cluster-security';
import { batchOf, type Job } from './job';
import { epochAt, MetricsLog, stepMetrics, type RecordContext } from './metrics-log';
import { LogThroughProgress, Progress, type BarStream } from './progress';
import { writeRunReport } from './run-report';
import { runView } from './run-view';
import { stateMessage } from './run-messages';
import { StepTimer } from './step-timer';
import { WorkerCluster } from './worker-cluster';
import type { WorkerLink } from './worker-link';
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
  /** where the progress bar draws (default process.stdout, where `log` is expected to write) */
  readonly progressStream?: BarStream;
}

/** What a finished run hands back. */
export interface RunResult {
  /** optimizer steps done: the run's total, or fewer when early stopping ended it */
  readonly steps: number;
  readonly losses: readonly number[];
  readonly finalEval: EvalSummary | null;
  readonly adapterDir: string;
  readonly rankPattern: ReadonlyMap<string, readonly boolean[]> | null;
  /** the best evaluation of the dev metric, whose adapter is in `<outputDir>/best/` (null without dev data) */
  readonly best: BestEval | null;
  /** set when the final adapter scores much worse on dev than the best one: says so, naming both and best/ */
  readonly finalVsBest: string | null;
  /** report.html of the run (views of metrics.jsonl, opens offline), beside its CSV files */
  readonly reportPath: string;
}

/**
 * The coordinator: accepts workers over WebSocket, shards every global batch among the live
 * ones, makes the global step once (mean gradient → AdamW → rank allocation) and sends the new
 * adapter state to every worker, so all workers hold the same adapter at every step.
 */
export class Coordinator {
  private readonly pool: WorkerPool;
  private readonly batches: EpochBatches;
  /** the scale of recent accepted gradients, against which an absurd share is refused */
  private readonly norms = new GradientNormGuard();
  /** the step's running gradient sum: one for the run, so its 2 × 16 MB (BERT-base) are not allocated again every step */
  private gradientSum: GradientAccumulator | null = null;
  private readonly interruption = new Interruption();
  /** the step of the checkpoint written last, so an interruption right after it does not write it twice */
  private savedStep: number | null = null;
  /** the best dev metric so far (kept in best/) and early stopping's patience */
  private readonly best: BestTracker;
  private readonly log: (line: string) => void;
  /** training is over: workers leaving now are the run's end, not events of it */
  private ended = false;

  /** Use `Coordinator.create`: the model files are hashed before the port opens. */
  private constructor(
    private readonly job: Job,
    private readonly o: CoordinatorOptions,
    private readonly cluster: WorkerCluster,
    private readonly logs: LogThroughProgress,
    private readonly metrics: MetricsLog,
  ) {
    this.log = logs.line;
    this.pool = cluster.pool;
    this.batches = new EpochBatches(job.train.examples.length, job.config.training, job.batchesPerEpoch);
    const t = job.config.training;
    this.best = new BestTracker(job.config.data.metric, t.earlyStoppingPatience, t.earlyStoppingThreshold, job.resumedFrom ? savedBest(this.bestDir, job.config.data.metric) : null);
  }

  /**
   * A coordinator for `job`; it serves the files of `job.modelDir` to authenticated workers and
   * the status page. metrics.jsonl starts with the resolved config; a resumed run first drops
   * the lines past its checkpoint, then marks where it took over.
   */
  static async create(job: Job, o: CoordinatorOptions): Promise<Coordinator> {
    const logs = new LogThroughProgress(o.log);
    const metrics = new MetricsLog(join(job.config.outputDir, 'metrics.jsonl'));
    if (job.config.resume) metrics.keepBefore(job.optimizer.step);
    const base = { step: job.optimizer.step, time: new Date().toISOString(), runId: job.runId };
    if (job.resumedFrom) metrics.write({ kind: 'resume', ...base, from: job.resumedFrom });
    metrics.write({
      kind: 'config',
      ...base,
      config: job.config,
      totalSteps: job.totalSteps,
      batchesPerEpoch: job.batchesPerEpoch,
      initialRanks: Object.fromEntries([...job.injected.adapters].map(([id, a]) => [id, a.rank])),
      trueRanks: job.trueRanks ? Object.fromEntries(job.trueRanks) : null,
    });
    let coordinator: Coordinator | null = null;
    const cluster = await WorkerCluster.open(job, o.security, logs.line, {
      view: (pool) => runView(metrics.records, pool.rows()),
      onWorkerEvent: (event, link, detail) => coordinator?.workerEvent(event, link, detail),
    });
    coordinator = new Coordinator(job, o, cluster, logs, metrics);
    return coordinator;
  }

  /** Who writes the records, and the epoch length, for metrics lines. */
  private get recordContext(): RecordContext {
    return { runId: this.job.runId, batchesPerEpoch: this.job.batchesPerEpoch };
  }

  private event(event: 'join' | 'drop' | 'checkpoint', detail: string, worker?: WorkerLink): void {
    const w = worker ? { index: worker.index, id: worker.workerId, host: worker.capabilities?.hostname ?? worker.remote, backend: worker.capabilities?.backend ?? '?' } : undefined;
    this.metrics.write({ kind: 'event', step: this.job.optimizer.step, time: new Date().toISOString(), runId: this.job.runId, event, detail, ...(w ? { worker: w } : {}) });
  }

  private workerEvent(event: 'join' | 'drop', link: WorkerLink, detail: string): void {
    if (!this.ended) this.event(event, `${link.label} ${event === 'join' ? 'joined' : 'dropped'}: ${detail}`, link);
  }

  /** `<outputDir>/best`: the adapter of the best evaluation. */
  private get bestDir(): string {
    return join(this.job.config.outputDir, 'best');
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
    const statusUrl = this.cluster.statusUrl(job.config.cluster.host);
    if (statusUrl) this.log(`status page: ${statusUrl}`);
    if (!nativeFrameMasking()) this.log('ws unmasks frames in JS here (the optional bufferutil did not load): every received gradient share costs ~2 ms per MB more');
    this.log(`waiting for ${minWorkers} worker(s) on ${this.cluster.address(job.config.cluster.host)}`);
    if ((await this.interruption.unless(this.pool.waitFor(minWorkers))) === INTERRUPTED) return this.stopEarly();
    const progress = new Progress(job.totalSteps, this.o.progressBar, { stream: this.o.progressStream });
    this.logs.attach(progress);
    const losses: number[] = [];
    let lastEval: EvalSummary | null = null;
    let stoppedEarly = false;
    try {
      for (let step = job.optimizer.step; step < job.totalSteps && !this.interruption.requested && !stoppedEarly; step++) {
        const ids = this.batches.of(step);
        const batch = batchOf(job.train, ids, job.padId, job.train.numLabels === 1);
        const timer = new StepTimer();
        const traffic = { ...this.pool.traffic };
        // the regulariser's gradient needs only the state before the step: made while the workers compute
        const sum = (this.gradientSum ??= new GradientAccumulator(job.injected.trainables, this.pool.arena)).reset();
        const overlapped = prepareWhile(gradientsFromShares(this.pool, job, step, ids, batch, this.norms, sum, this.log), () => job.optimizer.prepare());
        const waited = await this.interruption.unless(overlapped);
        if (waited === INTERRUPTED) {
          overlapped.then(({ prepared }) => prepared.dispose(), () => {});
          break;
        }
        const gathered = waited.result;
        timer.gradientsGathered();
        const report = job.optimizer.apply([gathered.sums], waited.prepared);
        timer.optimizerApplied();
        const frames = this.pool.encode(stateMessage(job));
        timer.stateEncoded();
        this.pool.sendFrames(frames);
        const times = timer.stateSent(gathered, report.phaseMs, { bytesIn: this.pool.traffic.bytesIn - traffic.bytesIn, bytesOut: this.pool.traffic.bytesOut - traffic.bytesOut });
        losses.push(report.loss);
        this.o.onStep?.(report);
        this.metrics.write(stepMetrics(report, times, gathered.workers, this.recordContext));
        this.report(progress, report, times.totalMs / 1000);

        const done = step + 1;
        const last = done === job.totalSteps;
        if (job.dev && (last || (evalEvery > 0 && done % evalEvery === 0))) {
          const evaluated = await this.interruption.unless(this.evaluate(done));
          if (evaluated === INTERRUPTED) break;
          lastEval = evaluated;
          progress.evaluated(done, job.config.data.metric, this.metricOf(evaluated));
          stoppedEarly = (await this.judge(done, evaluated)) && !last;
        }
        if (!last && !stoppedEarly && checkpointEvery > 0 && done % checkpointEvery === 0) await this.saveStepCheckpoint(done);
      }
    } finally {
      progress.stop();
      this.logs.attach(null);
    }
    if (this.interruption.requested) return this.stopEarly();
    const steps = job.optimizer.step;
    const finalDir = join(job.config.outputDir, 'final');
    await saveCheckpoint(finalDir, job, { step: steps, finalEval: lastEval }, this.log);
    this.event('checkpoint', `saved the final adapter to ${join(finalDir, 'adapter')}`);
    this.log(`saved the final adapter to ${join(finalDir, 'adapter')}`);
    const best = this.best.best;
    const finalVsBest = lastEval && best ? finalVsBestWarning({ step: steps, value: this.metricOf(lastEval) }, best, join(this.bestDir, 'adapter')) : null;
    const reportPath = this.writeReport();
    if (finalVsBest) this.log(finalVsBest);
    return { steps, losses, finalEval: lastEval, adapterDir: join(finalDir, 'adapter'), rankPattern: job.optimizer.rankPattern(), best, finalVsBest, reportPath };
  }

  // the run's report.html and CSV files, from everything metrics.jsonl holds; training is over
  private writeReport(): string {
    this.ended = true;
    const files = writeRunReport(this.job.config.outputDir);
    this.log(`wrote the run report ${files.html} (and ${files.stepsCsv}, ${files.evalsCsv})`);
    return files.html;
  }

  private metricOf(summary: EvalSummary): number {
    return summary.metrics[this.job.config.data.metric] ?? NaN;
  }

  // best/ when the evaluation at `step` beat every earlier one; true when early stopping ends the run here
  private async judge(step: number, summary: EvalSummary): Promise<boolean> {
    const { metric } = this.best;
    const value = this.metricOf(summary);
    const verdict = this.best.consider(step, value);
    if (verdict.improved) {
      await saveCheckpoint(this.bestDir, this.job, { step, best: { metric, value } }, this.log);
      this.log(`best dev ${metric} so far (${value.toFixed(4)} at step ${step}): saved ${join(this.bestDir, 'adapter')}`);
    }
    if (!verdict.stop) return false;
    const best = this.best.best!;
    const { earlyStoppingPatience: patience, earlyStoppingThreshold: threshold } = this.job.config.training;
    this.log(
      `early stopping at step ${step}: dev ${metric} did not improve by more than ${threshold} in ${patience} evaluation(s) ` +
        `(best ${best.value.toFixed(4)} at step ${best.step}, in ${join(this.bestDir, 'adapter')})`,
    );
    return true;
  }

  // writes the checkpoint of the last completed step (unless the loop just did), then throws RunInterrupted
  private async stopEarly(): Promise<never> {
    const step = this.job.optimizer.step;
    if (step === 0) throw new RunInterrupted(0, null);
    const dir = join(this.job.config.outputDir, checkpointName(step));
    if (this.savedStep !== step) await this.saveStepCheckpoint(step);
    this.writeReport();
    throw new RunInterrupted(step, dir);
  }

  // checkpoint-<step>: the state after `step` optimizer steps
  private async saveStepCheckpoint(step: number): Promise<void> {
    const { outputDir, training } = this.job.config;
    await saveCheckpoint(join(outputDir, checkpointName(step)), this.job, { step, epoch: this.batches.epochOf(step - 1) }, this.log);
    this.savedStep = step;
    this.event('checkpoint', `saved ${checkpointName(step)}`);
    if (training.saveTotalLimit !== undefined) pruneCheckpoints(outputDir, training.saveTotalLimit, this.job.resumedFrom, this.log);
  }

  /** Runs the dev split on the live workers, logs its metrics and writes them to metrics.jsonl. */
  async evaluate(step: number): Promise<EvalSummary> {
    const { dev, qaDev } = this.job;
    const outputs = await devOutputs(this.pool, this.job, this.log);
    const summary = qaDev ? summarizeQaEval(qaDev, dev!, outputs) : summarizeEval(dev!, outputs);
    const metric = this.job.config.data.metric;
    // every metric the task computes (QA: em, f1, v2's HasAns_* and NoAns_*), beside the headline one
    const metrics = Object.fromEntries(Object.entries(summary.metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
    const { runId, batchesPerEpoch } = this.recordContext;
    this.metrics.write({ kind: 'eval', step, time: new Date().toISOString(), runId, epoch: epochAt(step, batchesPerEpoch), metric, value: summary.metrics[metric] ?? NaN, metrics, loss: summary.loss, samples: summary.samples });
    this.log(`eval at step ${step}: ${formatMetrics(summary.metrics)}, loss ${summary.loss.toFixed(4)}`);
    return summary;
  }

  /** Prints through `write` (whole lines, e.g. a local worker's output) above the progress bar while it runs. */
  printAbove(write: () => void): void {
    this.logs.around(write);
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
      this.log(`step ${done}/${totalSteps} loss ${report.loss.toFixed(4)} lr ${report.lr.toExponential(2)} budget ${report.budget ?? '-'} (${this.pool.ready.length} workers)`);
    }
  }
}

// the best evaluation a resumed run's earlier part kept in best/ (its trainer_state.json), so best/ is only replaced by a better one
function savedBest(bestDir: string, metric: string): BestEval | null {
  const file = join(bestDir, 'trainer_state.json');
  if (!existsSync(file)) return null;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { step?: unknown; best?: { metric?: unknown; value?: unknown } };
    const { step, best } = state;
    if (typeof step !== 'number' || best?.metric !== metric || typeof best.value !== 'number') return null;
    return { step, metric: best.metric, value: best.value };
  } catch {
    return null; // unreadable: the next best evaluation replaces it
  }
}
