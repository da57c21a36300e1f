// Timing helpers the benchmarks share: medians of repeated runs after a warm-up.

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Median milliseconds of `runs` calls of `f(i)` (i = 0 … runs − 1), after `warmup` calls with
 * negative i (JIT, wasm kernels, first allocations).
 */
export function medianMs(runs: number, warmup: number, f: (i: number) => void): number {
  for (let i = 1; i <= warmup; i++) f(-i);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f(i);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** The median of per-pair ratios subject / reference, with their spread. */
export interface PairedRatio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly ratios: readonly number[];
}

/**
 * Measures `reference` and `subject` interleaved (reference, subject, reference, subject, …),
 * `pairs` times, and reports the median of the per-pair ratios subject / reference: the
 * machine's speed drifts within a run, and each ratio compares two measurements taken back to
 * back. `ratio(reference value, subject value)` defaults to subject / reference.
 */
export async function interleavedRatio<T>(
  pairs: number,
  reference: (pair: number) => Promise<T>,
  subject: (pair: number) => Promise<T>,
  ratio: (reference: T, subject: T) => number,
  onPair?: (pair: number, reference: T, subject: T, ratio: number) => void,
): Promise<PairedRatio> {
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const ref = await reference(p);
    const sub = await subject(p);
    ratios.push(ratio(ref, sub));
    onPair?.(p, ref, sub, ratios[p]);
  }
  return summarizeRatios(ratios);
}

/** Median, min and max of per-pair ratios. */
export function summarizeRatios(ratios: readonly number[]): PairedRatio {
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ratios };
}

/** "1.93 (1.85–1.97 over 3 pairs)" */
export function formatRatio(r: PairedRatio, digits = 2): string {
  return `${r.median.toFixed(digits)} (${r.min.toFixed(digits)}–${r.max.toFixed(digits)} over ${r.ratios.length} pairs)`;
}
