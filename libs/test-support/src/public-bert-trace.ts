import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAdaLoraConfig, type AdaLoraConfig } from '@adalora/config';
import type { SampleBatch } from '@adalora/protocol';
import type { OptimizerConfig } from '@adalora/training';
import { fixturePath } from './fixture-paths';

/** peft's recorded run in fixtures/traces/public-bert, as our configs and batches. */
export interface PublicBertTrace {
  readonly dir: string;
  readonly adalora: AdaLoraConfig;
  readonly optimizer: OptimizerConfig;
  readonly steps: readonly TraceStep[];
  /** global batch of step k: rows (8k mod 64) .. +8, in order, attention all ones */
  batch(step: number): SampleBatch;
}

export interface TraceStep {
  readonly step: number;
  readonly loss_with_orth: number;
  readonly budget: number;
  readonly mask_ind: boolean;
  readonly kept: Record<string, number>;
}

export function loadPublicBertTrace(): PublicBertTrace {
  const dir = fixturePath('traces', 'public-bert');
  const json = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8'));
  const m = json.meta;
  const a = m.adalora;
  const adalora = parseAdaLoraConfig({
    initR: a.init_r,
    targetR: a.target_r,
    tinit: a.tinit,
    tfinal: a.tfinal,
    deltaT: a.deltaT,
    beta1: a.beta1,
    beta2: a.beta2,
    orthRegWeight: a.orth_reg_weight,
    loraAlpha: a.lora_alpha,
    loraDropout: 0,
    totalStep: m.steps,
    targetModules: ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'],
    modulesToSave: ['classifier'],
  });
  const ids: number[][] = m.data.input_ids;
  const labels: number[] = m.data.labels;
  const seq = ids[0].length;
  return {
    dir,
    adalora,
    // meta.optimizer: "AdamW lr=5e-3 betas=(0.9,0.999) eps=1e-8 wd=0.01", constant lr
    optimizer: { weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, schedule: { lr: 5e-3, kind: 'constant', warmupSteps: 0, totalSteps: m.steps } },
    steps: json.trace,
    batch(step: number): SampleBatch {
      const rows = m.batch as number;
      const from = (rows * step) % ids.length;
      const part = ids.slice(from, from + rows);
      return {
        rows,
        seq,
        inputIds: Int32Array.from(part.flat()),
        attentionMask: new Int32Array(rows * seq).fill(1),
        labels: Int32Array.from(labels.slice(from, from + rows)),
      };
    },
  };
}
