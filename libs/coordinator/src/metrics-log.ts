import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StepReport } from '@adalora/training';
import { readMetricsLines } from './metrics-file';
import type { StepTimes } from './step-timer';

/**
 * What every line of metrics.jsonl carries. `step` is the global step count after the update
 * (1-based, as HF's `global_step`, the log lines and `checkpoint-<step>`): step records run
 * 1…totalSteps and an evaluation after step N says N.
 */
interface RecordBase {
  readonly step: number;
  /** wall time the line was written, ISO 8601 (UTC) */
  readonly time: string;
  readonly runId: string;
}

/** The first line of a run (and of every resumed start): the resolved config and the adapted matrices. */
export interface ConfigRecord extends RecordBase {
  readonly kind: 'config';
  /** the run config after defaults, file, --set and flags (`step`: steps already done, > 0 on resume) */
  readonly config: unknown;
  readonly totalSteps: number;
  readonly batchesPerEpoch: number;
  /** every adapted matrix (module id) and its initial rank */
  readonly initialRanks: Record<string, number>;
  /** the built-in task's true rank per matrix, else null */
  readonly trueRanks: Record<string, number> | null;
}

/** One line of metrics.jsonl per optimizer step; with where the step's time went (ms) and the bytes it moved (StepTimes). */
export interface StepMetrics extends RecordBase, StepTimes {
  readonly kind: 'step';
  /** epochs done after this step, fractional (step / batches per epoch), as HF's `epoch` */
  readonly epoch: number;
  /** task loss (mean over the global batch) + orth_reg_weight · orthogonal regulariser, before the update */
  readonly loss: number;
  readonly lr: number;
  readonly budget: number | null;
  /** true when the rank allocator masked singular values at this step */
  readonly maskApplied: boolean;
  /** kept rank per adapted module (non-zero singular values) */
  readonly kept: Record<string, number>;
  readonly samples: number;
  readonly samplesPerSecond: number;
  /** workers that delivered a share of this step's batch */
  readonly workers: number;
}

/** One line per evaluation of the dev split. */
export interface EvalMetrics extends RecordBase {
  readonly kind: 'eval';
  readonly epoch: number;
  /** the headline metric (data.metric) and its value */
  readonly metric: string;
  readonly value: number;
  /** every metric the task computes */
  readonly metrics: Record<string, number>;
  readonly loss: number;
  readonly samples: number;
}

/** Something that happened to the run besides steps: a worker joined or dropped, a checkpoint was written. */
export interface EventRecord extends RecordBase {
  readonly kind: 'event';
  readonly event: 'join' | 'drop' | 'checkpoint';
  readonly detail: string;
  /** the worker that joined or dropped */
  readonly worker?: { readonly index: number; readonly id: string; readonly host: string; readonly backend: string };
}

/**
 * Where a resumed run took over (`step`: the steps done at its checkpoint): the lines before it
 * are the earlier run's, trimmed to that step, those after it this run's.
 */
export interface ResumeMetrics extends RecordBase {
  readonly kind: 'resume';
  /** the checkpoint folder resumed from */
  readonly from: string;
}

export type MetricsRecord = ConfigRecord | StepMetrics | EvalMetrics | EventRecord | ResumeMetrics;

/** Appends metrics as JSON lines, creating the file's folder on first use; keeps this run's records in memory for the status page. */
export class MetricsLog {
  private ready = false;
  private readonly held: MetricsRecord[] = [];

  constructor(readonly path: string) {}

  /**
   * A resumed run after `step` steps: keeps only what the run wrote up to that step, so the file
   * reads as one uninterrupted run even when the interrupted one got further than its last
   * checkpoint. Returns the records kept.
   */
  keepBefore(step: number): readonly MetricsRecord[] {
    if (!existsSync(this.path)) return this.records;
    // at step 0 nothing of the earlier run is kept: the run starts over
    const kept = step === 0 ? [] : readMetricsLines(this.path).filter((m) => m.record.step <= step);
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, kept.map((m) => m.line + '\n').join(''));
    renameSync(tmp, this.path);
    this.held.splice(0, this.held.length, ...kept.map((m) => m.record));
    return this.records;
  }

  /** The records of this run in file order: those kept on resume, then those written. */
  get records(): readonly MetricsRecord[] {
    return this.held;
  }

  write(entry: MetricsRecord): void {
    if (!this.ready) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.ready = true;
    }
    appendFileSync(this.path, JSON.stringify(entry) + '\n');
    this.held.push(entry);
  }
}

/** Who wrote a record and how far the run is in epochs. */
export interface RecordContext {
  readonly runId: string;
  readonly batchesPerEpoch: number;
  readonly now?: Date;
}

/** Epochs done after `step` steps, as HF reports it (rounded to 4 decimals). */
export function epochAt(step: number, batchesPerEpoch: number): number {
  return Math.round((step / batchesPerEpoch) * 1e4) / 1e4;
}

/** The metrics line of one step: its report, where its time went, and how many workers took part. */
export function stepMetrics(r: StepReport, times: StepTimes, workers: number, ctx: RecordContext): StepMetrics {
  const step = r.step + 1; // the report counts from 0 (the step index); records count steps done
  return {
    kind: 'step',
    step,
    time: (ctx.now ?? new Date()).toISOString(),
    runId: ctx.runId,
    epoch: epochAt(step, ctx.batchesPerEpoch),
    loss: r.loss,
    lr: r.lr,
    budget: r.budget,
    maskApplied: r.maskApplied,
    kept: Object.fromEntries(r.kept),
    samples: r.samples,
    samplesPerSecond: r.samples / (times.totalMs / 1000),
    workers,
    ...times,
  };
}
