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
  /** where the step's time went (ms) and the bytes it moved: see StepTimes */
  readonly totalMs: number;
  readonly computeMs: number;
  readonly sumMs: number;
  readonly optimizerMs: number;
  readonly allocationMs: number;
  readonly encodeMs: number;
  readonly transferMs: number;
  readonly waitMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface EvalMetrics {
  readonly kind: 'eval';
  readonly step: number;
  readonly metric: string;
  readonly value: number;
  readonly loss: number;
  readonly samples: number;
}

/** Appends metrics as JSON lines, creating the file's folder on first use. */
export class MetricsLog {
  private ready = false;

  constructor(readonly path: string) {}

  /**
   * A resumed run at `step`: keeps only what the run wrote before that step (step lines before
   * it, evaluations up to it), so the file reads as one uninterrupted run even when the
   * interrupted one got further than its last checkpoint.
   */
  keepBefore(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => {
        let m: StepMetrics | EvalMetrics;
        try {
          m = JSON.parse(line) as StepMetrics | EvalMetrics;
        } catch {
          return false; // blank, or the last line of a process killed while writing it
        }
        return m.kind === 'step' ? m.step < step : m.step <= step;
      });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, kept.map((l) => l + '\n').join(''));
    renameSync(tmp, this.path);
  }

  write(entry: StepMetrics | EvalMetrics): void {
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
    samplesPerSecond: r.samples / (times.totalMs / 1000),
    workers,
    ...times,
  };
}
