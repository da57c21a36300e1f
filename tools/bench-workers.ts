/**
 * Throughput of 2 local workers against 1 on a compute-bound config (target ≥ 1.8 on a 2-core
 * machine), each 2-worker run measured right after a 1-worker run and reported as the median
 * of the per-pair ratios with their spread.
 *
 *   npx tsx tools/bench-workers.ts [--pairs 3] [--steps 8] [--warmup 3] [--backend wasm]
 *
 * Config: random BERT hidden 128, 2 layers, intermediate 512, 32 tokens, AdaLoRA init_r 8 on
 * all six matrices, batch 32 in micro-batches of 8; the coordinator runs in this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '@adalora/backend';
import { mergeConfig } from '@adalora/config';
import { timedClusterRun, type TimedRun } from './bench-cluster-run';
import { writeBenchTask } from './bench-cluster-task';
import { formatRatio, interleavedRatio, summarizeRatios } from './bench-timing';

const num = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const PAIRS = num('--pairs', 3);
const STEPS = num('--steps', 8);
const WARMUP = num('--warmup', 3);
const BACKEND = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'wasm';

const dir = mkdtempSync(join(tmpdir(), 'bench-workers-'));
try {
  await loadBackend(BACKEND as 'wasm', { log: () => {} });
  const base = await writeBenchTask(join(dir, 'task'));
  const config = (workers: number, pair: number) =>
    mergeConfig(base, {
      outputDir: join(dir, `run-${workers}w-${pair}`),
      adalora: { init_r: 8, target_r: 4, tinit: 1, tfinal: 1, deltaT: 1, lora_alpha: 16, target_modules: ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'] },
      training: { maxSteps: WARMUP + STEPS },
    }) as Record<string, unknown>;
  const show = (w: number, r: TimedRun) =>
    `${w} worker(s): ${r.samplesPerSecond.toFixed(1)} samples/s, ${(r.cpuSecondsPerStep * 1000).toFixed(0)} CPU ms/step (median step: compute ${(r.split.compute * 1000).toFixed(0)} ms, optimizer ${(r.split.optimizer * 1000).toFixed(0)} ms, send ${(r.split.communication * 1000).toFixed(0)} ms, wait ${(r.split.wait * 1000).toFixed(0)} ms)`;
  const cpuRatios: number[] = [];
  const ratio = await interleavedRatio(
    PAIRS,
    (p) => timedClusterRun(config(1, p), 1, WARMUP, BACKEND),
    (p) => timedClusterRun(config(2, p), 2, WARMUP, BACKEND),
    (one, two) => two.samplesPerSecond / one.samplesPerSecond,
    (p, one, two, r) => {
      cpuRatios.push(two.cpuSecondsPerStep / one.cpuSecondsPerStep);
      console.log(`pair ${p + 1}: ${show(1, one)}; ${show(2, two)}; ratio ${r.toFixed(2)} (CPU per step ${cpuRatios[p].toFixed(2)})`);
    },
  );
  console.log(`2 workers / 1 worker throughput: ${formatRatio(ratio)} (target >= 1.8)`);
  // what the second worker costs in CPU: 1.00 would be a perfectly parallel step
  console.log(`CPU time per step, 2 workers / 1 worker (coordinator + workers): ${formatRatio(summarizeRatios(cpuRatios))}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
