import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StepReport } from '@adalora/training';
import type { StepTimes } from './step-timer';

/** One line of metrics.jsonl per optimizer step (and one per evaluation). */
export interface StepMetrics {
  readonly kind: 'step';
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly budget: number | null;
  /** kept rank per adapted module (non-zero singular values) */
  readonly kept: Record<string, number>;
  readonly samples: number;
  readonly samplesPerSecond: number;
  /** workers that delivered a share of this step's batch */
  readonly workers: number;
  /** seconds: slowest worker's compute, coordinator's optimizer+allocation, network + waiting */
  readonly computeSeconds: number;
  readonly optimizerSeconds: number;
  readonly communicationSeconds: number;
  readonly waitSeconds: number;
}

export interface EvalMetrics {
  readonly kind: 'eval';
  readonly step: number;
  readonly metric: string;
  readonly value: number;
  readonly loss: number;
  readonly samples: number;
  /** extractive QA: every SQuAD score by name (em, f1, v2's HasAns_em, NoAns_f1, …) */
  readonly scores?: Readonly<Record<string, number>>;
}

/**
 * Where a resumed run took over: the lines before it are the earlier run's (trimmed to the
 * checkpoint's step), those after it this run's; `step` is the first step this run makes.
 */
export interface ResumeMetrics {
  readonly kind: 'resume';
  readonly step: number;
  /** the checkpoint folder resumed from */
  readonly from: string;
}

/** Any line of metrics.jsonl. */
export type MetricsRecord = StepMetrics | EvalMetrics | ResumeMetrics;

/** Appends metrics as JSON lines, creating the file's folder on first use. */
export class MetricsLog {
  private ready = false;

  constructor(readonly path: string) {}

  /**
   * A resumed run at `step`: keeps only what the run wrote before that step (step lines before
   * it, evaluations and resume marks up to it), so the file reads as one uninterrupted run even when the
   * interrupted one got further than its last checkpoint.
   */
  keepBefore(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => {
        let m: MetricsRecord;
        try {
          m = JSON.parse(line) as MetricsRecord;
        } catch {
          return false; // blank, or the last line of a process killed while writing it
        }
        return m.kind === 'step' ? m.step < step : m.step <= step;
      });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, kept.map((l) => l + '\n').join(''));
    renameSync(tmp, this.path);
  }

  write(entry: MetricsRecord): void {
    if (!this.ready) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.ready = true;
    }
    appendFileSync(this.path, JSON.stringify(entry) + '\n');
  }
}

/** The metrics line of one step: its report, where its time went, and how many workers took part. */
export function stepMetrics(r: StepReport, times: StepTimes, workers: number): StepMetrics {
  return {
    kind: 'step',
    step: r.step,
    loss: r.loss,
    lr: r.lr,
    budget: r.budget,
    kept: Object.fromEntries(r.kept),
    samples: r.samples,
    samplesPerSecond: r.samples / times.total,
    workers,
    computeSeconds: times.compute,
    optimizerSeconds: times.optimizer,
    communicationSeconds: times.communication,
    waitSeconds: times.wait,
  };
}
