import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readPeftAdapterTensors } from '@adalora/models';
import { loadPublicBertTrace, runLocalCluster } from '@adalora/test-support';

const trace = loadPublicBertTrace();

/** peft's recorded run as a run config: same base, initial state, data, order and rules. */
function traceConfig(outputDir: string): Record<string, unknown> {
  const a = trace.adalora;
  return {
    model: join(trace.dir, 'base'),
    initAdapter: join(trace.dir, 'initial-adapter'),
    outputDir,
    data: { train: join(trace.dir, 'train.jsonl'), format: 'pretokenized' },
    adalora: {
      init_r: a.initR, target_r: a.targetR, tinit: a.tinit, tfinal: a.tfinal, deltaT: a.deltaT, beta1: a.beta1, beta2: a.beta2,
      orth_reg_weight: a.orthRegWeight, lora_alpha: a.loraAlpha, target_modules: [...a.targetModules], modules_to_save: ['classifier'],
    },
    // 64 rows, batches of 8 in file order, 3 epochs = the trace's 24 steps; constant lr;
    // micro-batches of one row, so 3 workers split each batch 3/3/2
    training: { batchSize: 8, epochs: 3, lr: 5e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, schedule: 'constant', shuffle: false, microBatch: 1, seed: 0 },
    cluster: { backend: 'wasm' },
  };
}

for (const workers of [1, 3]) {
  test.serial(`${workers} worker(s) over WebSocket reproduce peft's trace`, async (t) => {
    const out = mkdtempSync(join(tmpdir(), 'adalora-trace-'));
    const tensorCounts: number[] = [];
    try {
      const { reports, workerExits } = await runLocalCluster({ config: traceConfig(out), workers, onStep: () => tensorCounts.push(tf.memory().numTensors) });
      t.is(reports.length, trace.steps.length);
      let worst = 0;
      for (const expected of trace.steps) {
        const r = reports[expected.step];
        const rel = Math.abs(r.loss - expected.loss_with_orth) / expected.loss_with_orth;
        worst = Math.max(worst, rel);
        t.true(rel <= 1e-3, `step ${expected.step}: loss ${r.loss} vs ${expected.loss_with_orth}`);
        for (const [name, kept] of Object.entries(expected.kept)) {
          const id = name.replace(/^base_model\.model\./, '').replace(/\.lora_E\.default$/, '');
          t.is(r.kept.get(id as never), kept, `step ${expected.step}: kept of ${id}`);
        }
      }
      // the saved adapter: peft's rank pattern, peft's values
      const ours = JSON.parse(readFileSync(join(out, 'final/adapter/adapter_config.json'), 'utf8'));
      const peft = JSON.parse(readFileSync(join(trace.dir, 'final-adapter/adapter_config.json'), 'utf8'));
      t.deepEqual(ours.rank_pattern, peft.rank_pattern);
      const a = readPeftAdapterTensors(join(out, 'final/adapter'));
      const b = readPeftAdapterTensors(join(trace.dir, 'final-adapter'));
      t.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
      let worstValue = 0;
      for (const [name, tb] of b) {
        const ta = a.get(name)!;
        t.deepEqual(ta.shape, tb.shape, name);
        tb.data.forEach((v, i) => (worstValue = Math.max(worstValue, Math.abs(v - ta.data[i]))));
      }
      t.true(worstValue <= 1e-4, `final adapter differs by ${worstValue}`);
      t.true(workerExits.every((e) => e.ok), 'every worker was shut down cleanly');
      // tensors: flat from step to step once warm (coordinator and workers share this process)
      t.is(new Set(tensorCounts.slice(2)).size, 1, `numTensors per step: ${tensorCounts.join(',')}`);
      t.log(`${workers} worker(s): worst loss rel err ${worst.toExponential(2)}, worst final value err ${worstValue.toExponential(2)}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
