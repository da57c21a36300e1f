import { readFileSync } from 'node:fs';
import { stepSplitOf, type StepMetrics } from '@adalora/coordinator';

/**
 * One measured step, as every measurement source of `adalora scale` gives it (real workers,
 * synthetic workers, the simulator): its samples and wall time, and where the time and the
 * bytes went. A part a source does not measure separately is null (shown as "–"), never guessed.
 */
export interface StepRecord {
  readonly samples: number;
  readonly totalMs: number;
  /** the slowest worker's own compute */
  readonly computeMs: number | null;
  /** the coordinator's serial work: summing the gradients, the optimizer, the rank allocation, encoding the state */
  readonly sumMs: number | null;
  readonly optimizerMs: number | null;
  readonly allocationMs: number | null;
  readonly encodeMs: number | null;
  /** moving the state out to the workers */
  readonly transferMs: number | null;
  /** gathering the gradients beyond the slowest worker's compute */
  readonly waitMs: number | null;
  /** bytes the coordinator received and sent in the step */
  readonly bytesIn: number | null;
  readonly bytesOut: number | null;
}

/** The parts of a step's time, in the order the table and the stacked bars show them. */
export const SPLIT_PARTS = ['computeMs', 'sumMs', 'optimizerMs', 'allocationMs', 'encodeMs', 'transferMs', 'waitMs'] as const;
export type SplitPart = (typeof SPLIT_PARTS)[number];
/** The parts that are the coordinator's serial work. */
export const COORDINATOR_PARTS: readonly SplitPart[] = ['sumMs', 'optimizerMs', 'allocationMs', 'encodeMs'];

/** What a run's own metrics.jsonl step line says about the step: its whole time split and traffic (see stepSplitOf). */
export function stepRecordFromMetrics(m: StepMetrics): StepRecord {
  const { samples, totalMs, computeMs, sumMs, optimizerMs, allocationMs, encodeMs, transferMs, waitMs, bytesIn, bytesOut } = stepSplitOf(m);
  return { samples, totalMs, computeMs, sumMs, optimizerMs, allocationMs, encodeMs, transferMs, waitMs, bytesIn, bytesOut };
}

/** A run's step lines from its metrics.jsonl, in step order, with the worker count of each. */
export interface RunSteps {
  readonly records: readonly StepRecord[];
  readonly workers: readonly number[];
}

/** Reads the step lines of a metrics.jsonl; evaluation lines and a torn last line are skipped. */
export function readRunSteps(path: string): RunSteps {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the run's metrics (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const steps: StepMetrics[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch {
      continue; // the last line of a process killed while writing it
    }
    if (isStepMetrics(m)) steps.push(m);
  }
  steps.sort((a, b) => a.step - b.step);
  return { records: steps.map(stepRecordFromMetrics), workers: steps.map((s) => s.workers) };
}

const TIMED_FIELDS = ['samples', 'samplesPerSecond', 'workers', 'totalMs', 'computeMs', 'sumMs', 'optimizerMs', 'allocationMs', 'encodeMs', 'transferMs', 'waitMs', 'bytesIn', 'bytesOut'] as const;

function isStepMetrics(m: unknown): m is StepMetrics {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r.kind === 'step' && typeof r.step === 'number' && TIMED_FIELDS.every((f) => typeof r[f] === 'number' && Number.isFinite(r[f]));
}
