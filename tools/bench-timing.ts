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
