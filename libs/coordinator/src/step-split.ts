import type { StepTimes } from './step-timer';

/**
 * One step's time split as `adalora scale` and the scaling tools read it: samples, wall time,
 * compute, the coordinator's serial parts, transfer, wait (all ms) and bytes in / out.
 */
export interface StepSplit extends StepTimes {
  readonly samples: number;
}

/** The fields of a StepSplit, in the order tables show them. */
export const STEP_SPLIT_FIELDS = ['samples', 'totalMs', 'computeMs', 'sumMs', 'optimizerMs', 'allocationMs', 'encodeMs', 'transferMs', 'waitMs', 'bytesIn', 'bytesOut'] as const satisfies readonly (keyof StepSplit)[];

/** The coordinator's serial time of a step: sum + optimizer + allocation + encode. */
export function coordinatorMs(s: StepSplit): number {
  return s.sumMs + s.optimizerMs + s.allocationMs + s.encodeMs;
}

/**
 * The split of a metrics.jsonl step record (a parsed line, `kind: 'step'`). Throws naming the
 * field when the record lacks one (e.g. a file written before the split existed).
 */
export function stepSplitOf(record: unknown): StepSplit {
  if (typeof record !== 'object' || record === null || (record as { kind?: unknown }).kind !== 'step') {
    throw new Error('stepSplitOf: not a step record of metrics.jsonl (kind must be "step")');
  }
  const r = record as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const f of STEP_SPLIT_FIELDS) {
    const v = r[f];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`stepSplitOf: step ${String(r.step)} has no valid '${f}' (got ${JSON.stringify(v)}); was the file written by an older version?`);
    out[f] = v;
  }
  return out as unknown as StepSplit;
}
