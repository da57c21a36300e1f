// ClusterOptimizer.apply on the BERT-base adapter set (synthetic job `bert-base-r12`, ≈ 2.0 M
// values, AdaLoRA with the orthogonal regulariser) the way the coordinator runs it: the
// regulariser's gradient prepared first (while the workers compute, off the critical path),
// then apply() with it, then snapshot() for the state message. Prints the median of each part
// per step: what bench:coordinator's "optimizer" column holds besides prepare(), which its
// serialStep leaves to apply().
//
//   npx tsx tools/bench-optimizer-step.ts [--steps 12]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '@adalora/backend';
import { prepareSyntheticJob, SYNTHETIC_PRESETS } from '@adalora/coordinator';
import { median } from './bench-timing';

const STEPS = process.argv.includes('--steps') ? Number(process.argv[process.argv.indexOf('--steps') + 1]) : 12;
const WARMUP = 2;

await loadBackend('auto', { log: () => {} });
const dir = mkdtempSync(join(tmpdir(), 'bench-optimizer-step-'));
const preset = SYNTHETIC_PRESETS['bert-base-r12'];
const job = prepareSyntheticJob({ preset: preset.name, steps: 100_000, batchSize: 256, microBatch: 8, outputDir: dir, minWorkers: 1 }, () => {});
try {
  const trainables = job.injected.trainables;
  // one summed share as the coordinator's accumulator hands it over (float64 sums of 256 rows)
  const grads = new Map([...trainables].map(([name, v]) => [name, Float64Array.from({ length: v.size }, (_, i) => 256e-3 * Math.sin(i + name.length))]));
  const rows: { prepare: number; mean: number; optimizer: number; allocation: number; snapshot: number }[] = [];
  for (let s = 0; s < STEPS + WARMUP; s++) {
    const t0 = performance.now();
    const prepared = job.optimizer.prepare();
    const t1 = performance.now();
    const report = job.optimizer.apply([{ count: 256, lossSum: 1, grads }], prepared);
    const t2 = performance.now();
    job.optimizer.snapshot();
    const t3 = performance.now();
    if (s >= WARMUP) rows.push({ prepare: t1 - t0, mean: report.phaseMs.mean, optimizer: report.phaseMs.optimizer, allocation: report.phaseMs.allocation, snapshot: t3 - t2 });
  }
  const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k])).toFixed(1);
  console.log(`ClusterOptimizer.apply, ${preset.description}, ${[...trainables.values()].reduce((n, v) => n + v.size, 0)} values, ${job.adalora.mode}, orth_reg_weight ${job.adalora.orthRegWeight}; medians of ${STEPS} steps (ms)`);
  console.log(`off the critical path: prepare() ${m('prepare')}`);
  console.log(`on it: mean (+ regulariser gradient) ${m('mean')}, optimizer ${m('optimizer')}, allocation ${m('allocation')}, snapshot() ${m('snapshot')}`);
} finally {
  job.dispose();
  rmSync(dir, { recursive: true, force: true });
}
