// The coordinator's serial time per step (sum of the gradients, optimizer, allocation, encode of
// the state) for the BERT-base adapter set (≈ 2.0 M values at r 12) with 8, 16 and 32 workers,
// and its growth per added worker. Reference and subject run interleaved in the same process
// (the way before: replies copied into fresh memory, summed in order after the last, the
// regulariser made after the last reply, the state encoded per worker; then the way now: replies
// reassembled into the memory the sum lives in and read there once (checked and added in one
// pass), summed as they arrive, the regulariser made while the workers compute, the state encoded
// once), every count within every pair, and each figure is the median over pairs, with the median
// ratio and its spread, because this machine's speed drifts within a run; the growth per worker
// is each pair's least-squares slope over the counts, its median and spread. The shares are of
// one micro-batch each (8 rows), as a float64 wire sends them: float32, 8 MB, every worker's its
// own memory.
// Last, what ws costs per received share to unmask its frames, native (bufferutil) and in JS.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '@adalora/backend';
import { createRequire } from 'node:module';
import { gradientFrames, prepareSyntheticJob, presetValueCount, SYNTHETIC_PRESETS, serialMemory, serialStep, type SerialTimes } from '@adalora/coordinator';
import { median } from './bench-timing';

const WORKERS = [8, 16, 32];
const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const ROWS = 8; // rows per worker per step
const TARGET_MS = 100;
const TARGET_PER_WORKER_MS = 5;

/** a full collection between measurements (with node --expose-gc, as npm run bench:coordinator runs): the way before leaves ≈ 16 MB of garbage per share, which the next measurement would otherwise collect */
const gc = (globalThis as { gc?: () => void }).gc;
const settle = () => gc?.();

const total = (t: SerialTimes) => t.sumMs + t.optimizerMs + t.allocationMs + t.encodeMs;
const fmt = (ms: number) => ms.toFixed(1).padStart(7);

await loadBackend('auto', { log: () => {} });
const dir = mkdtempSync(join(tmpdir(), 'bench-coordinator-'));
const preset = SYNTHETIC_PRESETS['bert-base-r12'];
const job = prepareSyntheticJob({ preset: preset.name, steps: 100_000, batchSize: ROWS * 32, microBatch: ROWS, outputDir: dir, minWorkers: 1 }, () => {});
try {
  console.log(`coordinator serial time per step: ${preset.description}, ${presetValueCount(preset)} values, shares of one micro-batch (float32 on the float64 wire: 8 MB); ${cpus().length} cores; ${PAIRS} interleaved pairs (before, now) per count${gc ? ', the heap collected before each' : ' (no gc(): run with node --expose-gc to collect the heap between measurements)'}`);
  const frames = gradientFrames(job, 0, ROWS, [0]);
  const memory = serialMemory(job);
  // every worker's reply its own memory, as on a real coordinator (the same frames again would be read from cache)
  const replies = Array.from({ length: Math.max(...WORKERS) }, () => frames.map((f) => f.slice()));
  const sharesOf = (w: number) => replies.slice(0, w);
  // warm-up at the largest count: JIT, wasm kernels, and every reply's memory touched once (a coordinator runs thousands of steps)
  for (let i = 0; i < 2; i++) {
    serialStep(job, sharesOf(Math.max(...WORKERS)), ROWS, 'ordered');
    serialStep(job, sharesOf(Math.max(...WORKERS)), ROWS, 'arrival', memory);
  }
  const before = new Map<number, SerialTimes[]>(WORKERS.map((w) => [w, []]));
  const now = new Map<number, SerialTimes[]>(WORKERS.map((w) => [w, []]));
  // pairs, and within a pair every count, interleaved: the machine's drift falls on every count alike
  for (let p = 0; p < PAIRS; p++) {
    for (const w of WORKERS) {
      settle();
      before.get(w)!.push(serialStep(job, sharesOf(w), ROWS, 'ordered'));
      settle();
      now.get(w)!.push(serialStep(job, sharesOf(w), ROWS, 'arrival', memory));
    }
  }
  console.log('workers | way    |   total |     sum | optimizer | allocation |  encode | now/before (median, spread) | regulariser made while workers compute (not in total)');
  for (const w of WORKERS) {
    const [b, a] = [before.get(w)!, now.get(w)!];
    const ratios = a.map((x, i) => total(x) / total(b[i]));
    const row = (way: string, ts: SerialTimes[], tail = '') =>
      console.log(`${String(w).padStart(7)} | ${way.padEnd(6)} | ${fmt(median(ts.map(total)))} | ${fmt(median(ts.map((t) => t.sumMs)))} | ${fmt(median(ts.map((t) => t.optimizerMs))).padStart(9)} | ${fmt(median(ts.map((t) => t.allocationMs))).padStart(10)} | ${fmt(median(ts.map((t) => t.encodeMs)))} | ${tail}`);
    row('before', b);
    row('now', a, `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})          | ${median(a.map((x) => x.preparedMs)).toFixed(1)}`);
  }
  const first = WORKERS[0];
  const atFirst = median(now.get(first)!.map(total));
  // growth per added worker: the least-squares slope over the counts within each pair, then the median over pairs
  const slopes = Array.from({ length: PAIRS }, (_, p) => slope(WORKERS.map((w) => [w, total(now.get(w)![p])] as const)));
  const perWorker = median(slopes);
  console.log(
    `now: ${atFirst.toFixed(1)} ms at ${first} workers (median of ${PAIRS}; target ≤ ${TARGET_MS}): ${atFirst <= TARGET_MS ? 'met' : 'MISSED'}; ` +
      `+${perWorker.toFixed(2)} ms per added worker (least-squares slope over ${WORKERS.join(', ')} within each pair, median ${perWorker.toFixed(2)}, spread ${Math.min(...slopes).toFixed(2)}–${Math.max(...slopes).toFixed(2)}; target ≤ ${TARGET_PER_WORKER_MS}): ${perWorker <= TARGET_PER_WORKER_MS ? 'met' : 'MISSED'}`,
  );
  unmaskCost(frames.reduce((n, f) => n + f.byteLength, 0));
} finally {
  job.dispose();
  rmSync(dir, { recursive: true, force: true });
}

/** The least-squares slope of y against x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
  const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/** ws unmasks every received frame: with bufferutil natively, else byte by byte in JS (this loop is ws's fallback). */
function unmaskCost(bytes: number): void {
  const buffer = Buffer.alloc(bytes, 7);
  const mask = Buffer.from([1, 2, 3, 4]);
  const inJs = (b: Buffer, m: Buffer) => {
    for (let i = 0; i < b.length; i++) b[i] ^= m[i & 3];
  };
  let native: ((b: Buffer, m: Buffer) => void) | null = null;
  try {
    native = (createRequire(import.meta.url)('bufferutil') as { unmask: (b: Buffer, m: Buffer) => void }).unmask;
  } catch {
    console.log('bufferutil is not installed: ws unmasks in JS');
  }
  const time = (f: (b: Buffer, m: Buffer) => void) => {
    f(buffer, mask);
    return median(Array.from({ length: 5 }, () => {
      const t0 = performance.now();
      f(buffer, mask);
      return performance.now() - t0;
    }));
  };
  const js = time(inJs);
  console.log(`ws unmasking one received share (${(bytes / 1e6).toFixed(1)} MB): ${native ? `native ${time(native).toFixed(2)} ms, ` : ''}JS ${js.toFixed(2)} ms`);
}
