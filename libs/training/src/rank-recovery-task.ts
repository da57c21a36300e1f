import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { moduleId, type ModuleId } from '@adalora/core';
import { loadEncoder, writeSafetensors, type SafeTensor } from '@adalora/models';
import { mulberry32, normalSampler } from './seeded-random';

/**
 * The built-in job: a small seeded random BERT is the base model; a teacher is that model plus
 * low-rank updates of known ranks on some matrices (none on the others); labels come from the
 * teacher. AdaLoRA should put its budget where the teacher's updates are.
 */
export interface RankRecoveryTask {
  readonly modelDir: string;
  readonly trainFile: string; // pre-tokenized JSONL
  readonly devFile: string;
  /** rank of the teacher's update per adapted matrix (0 = none) */
  readonly trueRanks: ReadonlyMap<ModuleId, number>;
}

const SHAPE = { vocab: 64, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 32, labels: 3 };
const SEQ = 16;
/** true rank of the teacher's update, per layer, per matrix type */
const TEACHER_RANKS: readonly Readonly<Record<string, number>>[] = [
  { 'attention.self.query': 4, 'attention.self.key': 0, 'attention.self.value': 2, 'attention.output.dense': 0, 'intermediate.dense': 3, 'output.dense': 0 },
  { 'attention.self.query': 0, 'attention.self.key': 1, 'attention.self.value': 0, 'attention.output.dense': 2, 'intermediate.dense': 0, 'output.dense': 1 },
];

/** Writes the base checkpoint and the teacher-labelled data under `dir`; same seed, same files. */
export async function createRankRecoveryTask(dir: string, seed = 1234, samples = { train: 4096, dev: 512 }): Promise<RankRecoveryTask> {
  const modelDir = join(dir, 'base-model');
  mkdirSync(modelDir, { recursive: true });
  const normal = normalSampler(mulberry32(seed));
  const weights = baseWeights(normal);
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify(bertConfig(), null, 2));
  writeSafetensors(join(modelDir, 'model.safetensors'), weights);

  const { model } = await loadEncoder(modelDir);
  const trueRanks = new Map<ModuleId, number>();
  const updates: tf.Tensor2D[] = [];
  try {
    TEACHER_RANKS.forEach((ranks, layer) => {
      for (const [suffix, rank] of Object.entries(ranks)) {
        const id = moduleId(`bert.encoder.layer.${layer}.${suffix}`);
        trueRanks.set(id, rank);
        if (rank === 0) continue;
        const linear = model.linears.get(id);
        if (!linear) throw new Error(`rank-recovery task: the base model has no layer ${id}`);
        const update = lowRankUpdate(linear.outFeatures, linear.inFeatures, rank, normal);
        updates.push(update);
        linear.adapter = { delta: (x) => tf.matMul(x, update, false, true) };
      }
    });
    const uniform = mulberry32(seed + 1);
    const all = randomSequences(samples.train + samples.dev, uniform);
    const logits = teacherLogits(model, all);
    const labels = balancedArgmax(logits, all.length);
    const lines = all.map((ids, i) => JSON.stringify({ input_ids: ids, label: labels[i] }));
    const trainFile = join(dir, 'train.jsonl');
    const devFile = join(dir, 'dev.jsonl');
    writeFileSync(trainFile, lines.slice(0, samples.train).join('\n') + '\n');
    writeFileSync(devFile, lines.slice(samples.train).join('\n') + '\n');
    writeFileSync(join(dir, 'true-ranks.json'), JSON.stringify(Object.fromEntries(trueRanks), null, 2));
    return { modelDir, trainFile, devFile, trueRanks };
  } finally {
    updates.forEach((u) => u.dispose());
    model.dispose();
  }
}

function bertConfig(): Record<string, unknown> {
  return {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: SHAPE.vocab,
    hidden_size: SHAPE.hidden,
    num_hidden_layers: SHAPE.layers,
    num_attention_heads: SHAPE.heads,
    intermediate_size: SHAPE.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    max_position_embeddings: SHAPE.maxPositions,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    id2label: Object.fromEntries(Array.from({ length: SHAPE.labels }, (_, i) => [String(i), `LABEL_${i}`])),
  };
}

/** A BertForSequenceClassification state dict with Xavier-scaled linears, so no layer is negligible. */
function baseWeights(normal: () => number): Map<string, SafeTensor> {
  const w = new Map<string, SafeTensor>();
  const add = (name: string, shape: number[], std: number, mean = 0) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = std === 0 ? mean : mean + std * normal();
    w.set(name, { shape, data });
  };
  const { hidden: h, intermediate: f } = SHAPE;
  const linear = (name: string, out: number, inp: number) => {
    add(`${name}.weight`, [out, inp], 1 / Math.sqrt(inp));
    add(`${name}.bias`, [out], 0.02);
  };
  const norm = (name: string) => {
    add(`${name}.weight`, [h], 0, 1);
    add(`${name}.bias`, [h], 0);
  };
  add('bert.embeddings.word_embeddings.weight', [SHAPE.vocab, h], 1);
  add('bert.embeddings.position_embeddings.weight', [SHAPE.maxPositions, h], 0.5);
  add('bert.embeddings.token_type_embeddings.weight', [2, h], 0.5);
  norm('bert.embeddings.LayerNorm');
  for (let l = 0; l < SHAPE.layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) linear(`${p}.attention.self.${m}`, h, h);
    linear(`${p}.attention.output.dense`, h, h);
    norm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, f, h);
    linear(`${p}.output.dense`, h, f);
    norm(`${p}.output.LayerNorm`);
  }
  linear('bert.pooler.dense', h, h);
  linear('classifier', SHAPE.labels, h);
  return w;
}

/** ΔW = U diag(σ) V with orthonormal U [out, r], V [r, in] and σ of the size of W's own spectrum. */
function lowRankUpdate(out: number, inp: number, rank: number, normal: () => number): tf.Tensor2D {
  return tf.tidy(() => {
    const u = orthonormalColumns(out, rank, normal); // (out, r)
    const v = orthonormalColumns(inp, rank, normal); // (in, r)
    const sigma = tf.tensor1d(Array.from({ length: rank }, (_, i) => 2.5 - 0.3 * i));
    return tf.matMul(u.mul(sigma), v, false, true) as tf.Tensor2D; // (out, in)
  });
}

function orthonormalColumns(n: number, r: number, normal: () => number): tf.Tensor2D {
  const cols: Float64Array[] = [];
  for (let j = 0; j < r; j++) {
    const c = Float64Array.from({ length: n }, () => normal());
    for (const q of cols) {
      const dot = c.reduce((s, x, i) => s + x * q[i], 0);
      for (let i = 0; i < n; i++) c[i] -= dot * q[i];
    }
    const len = Math.sqrt(c.reduce((s, x) => s + x * x, 0));
    cols.push(c.map((x) => x / len));
  }
  const data = new Float32Array(n * r);
  cols.forEach((c, j) => c.forEach((x, i) => (data[i * r + j] = x)));
  return tf.tensor2d(data, [n, r]);
}

function randomSequences(count: number, uniform: () => number): number[][] {
  return Array.from({ length: count }, () => Array.from({ length: SEQ }, () => 1 + Math.floor(uniform() * (SHAPE.vocab - 1))));
}

function teacherLogits(model: Awaited<ReturnType<typeof loadEncoder>>['model'], rows: number[][]): Float32Array {
  const out = new Float32Array(rows.length * model.numLabels);
  for (let from = 0; from < rows.length; from += 64) {
    const part = rows.slice(from, from + 64);
    const logits = tf.tidy(() => {
      const ids = tf.tensor2d(part.flat(), [part.length, SEQ], 'int32');
      return model.forward({ inputIds: ids, attentionMask: tf.onesLike(ids) }, false).logits;
    });
    out.set(logits.dataSync(), from * model.numLabels);
    logits.dispose();
  }
  return out;
}

/** argmax after centring each class's logit on its median, so every class is well represented. */
function balancedArgmax(logits: Float32Array, n: number): number[] {
  const k = logits.length / n;
  const medians = Array.from({ length: k }, (_, c) => {
    const col = Array.from({ length: n }, (_, i) => logits[i * k + c]).sort((a, b) => a - b);
    return col[Math.floor(n / 2)];
  });
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[i * k + c] - medians[c] > logits[i * k + best] - medians[best]) best = c;
    return best;
  });
}

/** The built-in job's run config (a user's config and flags override any of it). */
export const RANK_RECOVERY_DEFAULTS = {
  model: 'builtin:rank-recovery',
  outputDir: 'runs/rank-recovery',
  data: { format: 'pretokenized', metric: 'accuracy' },
  adalora: {
    init_r: 6,
    target_r: 1,
    tinit: 64,
    tfinal: 128,
    deltaT: 8,
    lora_alpha: 12,
    orth_reg_weight: 0.3,
    target_modules: ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'],
  },
  training: { batchSize: 32, epochs: 3, lr: 1e-2, schedule: 'linear', warmupSteps: 8, microBatch: 8, evalEvery: 128, seed: 1234 },
} as const;
