import { COORDINATOR_PARTS, SPLIT_PARTS, type SplitPart, type StepRecord } from './split-parts';

/** A median with its interquartile range (25th and 75th percentiles). */
export interface Spread {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
}

/** The measured steps at one worker count. */
export interface Measurement {
  /** the worker count asked for */
  readonly workers: number;
  /** workers that delivered a share of each measured step, when the source reports it */
  readonly workersSeen?: readonly number[];
  readonly steps: readonly StepRecord[];
}

/** One row of the scaling table: medians over one worker count's measured steps. */
export interface ScaleRow {
  readonly workers: number;
  readonly steps: number;
  readonly samplesPerStep: number;
  readonly samplesPerSecond: Spread;
  readonly stepMs: Spread;
  /** median samples/s over that of the smallest worker count */
  readonly speedup: number;
  /** speed-up over the growth in workers: 1 = perfect scaling */
  readonly efficiency: number;
  /** medians of the parts of the step time; coordinatorMs sums the coordinator's parts of each step */
  readonly split: Readonly<Record<SplitPart | 'coordinatorMs', number | null>>;
  readonly bytesIn: number | null;
  readonly bytesOut: number | null;
}

/** The q-quantile of `values`, interpolated linearly between order statistics (numpy's default). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function spread(values: readonly number[]): Spread {
  return { median: quantile(values, 0.5), p25: quantile(values, 0.25), p75: quantile(values, 0.75) };
}

/** The median of a part, or null when any step lacks it (a source measures a part for every step or none). */
function medianOf(values: readonly (number | null)[]): number | null {
  return values.every((v): v is number => v !== null) ? quantile(values, 0.5) : null;
}

/** The coordinator's serial time of one step: its parts that were measured, null if none was. */
function coordinatorMs(r: StepRecord): number | null {
  const known = COORDINATOR_PARTS.map((p) => r[p]).filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

/**
 * The scaling table: one row per worker count, in increasing order, speed-up and efficiency
 * against the smallest count (1 worker when measured).
 */
export function scaleTable(measurements: readonly Measurement[]): ScaleRow[] {
  if (measurements.length === 0) throw new Error('scale table: no measurements');
  const sorted = [...measurements].sort((a, b) => a.workers - b.workers);
  const repeated = sorted.find((m, i) => i > 0 && sorted[i - 1].workers === m.workers);
  if (repeated) throw new Error(`scale table: ${repeated.workers} workers measured twice`);
  for (const m of sorted) {
    if (m.steps.length === 0) throw new Error(`scale table: no measured steps at ${m.workers} worker(s)`);
    const bad = m.steps.find((s) => !(s.samples > 0 && s.totalMs > 0));
    if (bad) throw new Error(`scale table: a step at ${m.workers} worker(s) has ${bad.samples} samples in ${bad.totalMs} ms (both must be > 0)`);
  }
  const rows = sorted.map((m) => {
    const split = Object.fromEntries(SPLIT_PARTS.map((p) => [p, medianOf(m.steps.map((s) => s[p]))])) as Record<SplitPart, number | null>;
    return {
      workers: m.workers,
      steps: m.steps.length,
      samplesPerStep: quantile(m.steps.map((s) => s.samples), 0.5),
      samplesPerSecond: spread(m.steps.map((s) => s.samples / (s.totalMs / 1000))),
      stepMs: spread(m.steps.map((s) => s.totalMs)),
      split: { ...split, coordinatorMs: medianOf(m.steps.map(coordinatorMs)) },
      bytesIn: medianOf(m.steps.map((s) => s.bytesIn)),
      bytesOut: medianOf(m.steps.map((s) => s.bytesOut)),
    };
  });
  const base = rows[0];
  return rows.map((r) => {
    const speedup = r.samplesPerSecond.median / base.samplesPerSecond.median;
    return { ...r, speedup, efficiency: speedup / (r.workers / base.workers) };
  });
}
