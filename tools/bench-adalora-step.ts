/**
 * AdaLoRA's whole distributed step against LoRA's on the same model and init rank (target
 * ≤ 1.05; peft on an H100 measures 2.84): each AdaLoRA run measured right after a LoRA run, 2
 * local workers, the measured steps inside AdaLoRA's pruning phase (importance scores, budget
 * masking and the orthogonal regulariser every step), reported as the median of the per-pair
 * ratios of median step times, with their spread.
 *
 *   npx tsx tools/bench-adalora-step.ts [--pairs 3] [--steps 8] [--warmup 3] [--workers 2] [--backend wasm]
 *
 * Config: random BERT hidden 128, 2 layers, intermediate 512, 32 tokens, r 8 on all six
 * matrices (AdaLoRA: init_r 8 → target_r 4), batch 32 in micro-batches of 8.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '@adalora/backend';
import { mergeConfig } from '@adalora/config';
import { timedClusterRun, type TimedRun } from './bench-cluster-run';
import { writeBenchTask } from './bench-cluster-task';
import { formatRatio, interleavedRatio, median, summarizeRatios } from './bench-timing';

const num = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const PAIRS = num('--pairs', 3);
const STEPS = num('--steps', 8);
const WARMUP = num('--warmup', 3);
const WORKERS = num('--workers', 2);
const BACKEND = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'wasm';
const TARGETS = ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'];

const dir = mkdtempSync(join(tmpdir(), 'bench-adalora-step-'));
try {
  await loadBackend(BACKEND as 'wasm', { log: () => {} });
  const base = await writeBenchTask(join(dir, 'task'));
  const total = WARMUP + STEPS + 2;
  const config = (mode: 'lora' | 'adalora', pair: number) =>
    mergeConfig(base, {
      outputDir: join(dir, `run-${mode}-${pair}`),
      adalora:
        mode === 'lora'
          ? { mode, init_r: 8, lora_alpha: 16, target_modules: TARGETS }
          : // pruning from step 1 to total − 1: every measured step scores, masks and regularises
            { mode, init_r: 8, target_r: 4, tinit: 1, tfinal: 1, deltaT: 1, lora_alpha: 16, orth_reg_weight: 0.1, target_modules: TARGETS },
      training: { maxSteps: total },
    }) as Record<string, unknown>;
  const measured = (r: TimedRun) => median(r.stepSeconds.slice(0, STEPS));
  const show = (name: string, r: TimedRun) =>
    `${name} ${(measured(r) * 1000).toFixed(0)} ms/step, ${(r.cpuSecondsPerStep * 1000).toFixed(0)} CPU ms/step (compute ${(r.split.compute * 1000).toFixed(0)}, optimizer ${(r.split.optimizer * 1000).toFixed(0)}, send ${(r.split.communication * 1000).toFixed(0)}, wait ${(r.split.wait * 1000).toFixed(0)} ms)`;
  const cpuRatios: number[] = [];
  const ratio = await interleavedRatio(
    PAIRS,
    (p) => timedClusterRun(config('lora', p), WORKERS, WARMUP, BACKEND),
    (p) => timedClusterRun(config('adalora', p), WORKERS, WARMUP, BACKEND),
    (lora, ada) => measured(ada) / measured(lora),
    (p, lora, ada, r) => {
      cpuRatios.push(ada.cpuSecondsPerStep / lora.cpuSecondsPerStep);
      console.log(`pair ${p + 1}: ${show('LoRA', lora)}; ${show('AdaLoRA', ada)}; ratio ${r.toFixed(2)} (CPU time ${cpuRatios[p].toFixed(2)})`);
    },
  );
  console.log(`AdaLoRA / LoRA step time (${WORKERS} workers, init rank 8): ${formatRatio(ratio)} (target <= 1.05)`);
  console.log(`AdaLoRA / LoRA CPU time per step (coordinator + workers): ${formatRatio(summarizeRatios(cpuRatios))}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
