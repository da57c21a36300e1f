// The coordinator's optimizer step (ClusterOptimizer.apply) profiled by CPU time, in-process, for
// LoRA, AdaLoRA and AdaLoRA without its orthogonal regulariser, on the config of
// bench-adalora-step: where AdaLoRA's extra step time goes, measurable on a loaded machine. Each
// arm is timed twice: apply() alone, and as the coordinator runs it (prepare() while the workers
// compute, then apply() with the prepared regulariser gradient: what stays on the critical path).
//
//   npx tsx tools/bench-optimizer-cpu.ts [--steps 20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '@adalora/backend';
import { mergeConfig, parseRunConfig } from '@adalora/config';
import { prepareJob } from '@adalora/coordinator';
import { collate } from '@adalora/data';
import { computeGradientSums } from '@adalora/training';
import { writeBenchTask } from './bench-cluster-task';

const STEPS = process.argv.includes('--steps') ? Number(process.argv[process.argv.indexOf('--steps') + 1]) : 20;
const TARGETS = ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const dir = mkdtempSync(join(tmpdir(), 'bench-optimizer-cpu-'));
try {
  await loadBackend('wasm', { log: () => {} });
  const base = await writeBenchTask(join(dir, 'task'));
  const arms = [
    ['LoRA', { mode: 'lora', init_r: 8, lora_alpha: 16, target_modules: TARGETS }],
    ['AdaLoRA', { mode: 'adalora', init_r: 8, target_r: 4, tinit: 1, tfinal: 1, deltaT: 1, lora_alpha: 16, orth_reg_weight: 0.1, target_modules: TARGETS }],
    ['AdaLoRA, orth_reg_weight 0', { mode: 'adalora', init_r: 8, target_r: 4, tinit: 1, tfinal: 1, deltaT: 1, lora_alpha: 16, orth_reg_weight: 0, target_modules: TARGETS }],
  ] as const;
  for (const [name, adalora] of arms) {
    const config = parseRunConfig(mergeConfig(base, { outputDir: join(dir, name), adalora, training: { maxSteps: 2 * STEPS + 4 } }) as Record<string, unknown>);
    const job = await prepareJob(config, () => {});
    try {
      const rows = collate(job.train.examples.slice(0, 32), { padId: job.padId, regression: true });
      let t0 = cpuMs();
      const sums = computeGradientSums(job.model!, job.injected.trainables, rows, 8, { seed: 1, step: 0, microBatches: [0, 1, 2, 3] });
      const gradientMs = cpuMs() - t0;
      job.optimizer.apply([sums]); // step 0: before tinit, and the first allocations
      // in the pruning phase, alternating (so warm-up and drift weigh on both alike) apply() alone
      // with the coordinator's path: prepare() while the workers compute, apply() after their replies
      let plainMs = 0;
      let prepareMs = 0;
      let applyMs = 0;
      for (let i = 0; i < STEPS; i++) {
        t0 = cpuMs();
        job.optimizer.apply([sums]);
        plainMs += cpuMs() - t0;
        t0 = cpuMs();
        const prepared = job.optimizer.prepare();
        prepareMs += cpuMs() - t0;
        t0 = cpuMs();
        job.optimizer.apply([sums], prepared);
        applyMs += cpuMs() - t0;
      }
      console.log(
        `${name}: optimizer step ${(plainMs / STEPS).toFixed(1)} CPU ms as apply() alone; with the regulariser prepared while workers compute ` +
          `${(prepareMs / STEPS).toFixed(1)} ms off the critical path + ${(applyMs / STEPS).toFixed(1)} ms on it (means of ${STEPS}); one 32-row gradient ${gradientMs.toFixed(0)} CPU ms`,
      );
    } finally {
      job.dispose();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
