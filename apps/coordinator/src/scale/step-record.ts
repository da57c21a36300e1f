import { readFileSync } from 'node:fs';
import { stepSplitOf, type StepMetrics } from '@adalora/coordinator';

import { COORDINATOR_PARTS, SPLIT_PARTS, type SplitPart, type StepRecord } from './split-parts';

export { COORDINATOR_PARTS, SPLIT_PARTS, type SplitPart, type StepRecord };

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
