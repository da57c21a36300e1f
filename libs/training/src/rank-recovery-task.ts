import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RANK_RECOVERY_SAMPLES } from '@adalora/config';
import { moduleId, mulberry32, normalSampler, uniform01, type ModuleId } from '@adalora/core';
import { loadEncoder, writeSafetensors, type SafeTensor } from '@adalora/models';

/**
 * The built-in job: a small seeded random BERT is the base model; a teacher is that model plus
 * low-rank updates of known ranks on some matrices (none on the others); the regression target
 * is the teacher's output. AdaLoRA should put its budget where the teacher's updates are.
 */
export interface RankRecoveryTask {
  readonly modelDir: string;
  readonly trainFile: string; // pre-tokenized JSONL
  readonly devFile: string;
  /** rank of the teacher's update per adapted matrix (0 = none) */
  readonly trueRanks: ReadonlyMap<ModuleId, number>;
}

const SHAPE = { vocab: 64, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 32 };
const SEQ = 8;
/**
 * True rank of the teacher's update, per layer, per matrix type; they sum to the run's target
 * budget (target_r 1 × 12 matrices). Only query and key change. The task reads one number off
 * the first token, and a change to value, attention output or either feed-forward matrix is
 * imitated almost exactly by the other matrices (measured here: a rank-2 change of one of them,
 * fitted by LoRA on the other eleven, is 91-99 % explained), so no method could tell from the
 * data which of them changed. A query or key change moves where tokens attend, which the others
 * imitate badly (41-80 % explained). Layer 0's key stays unchanged, so the run also shows
 * whether AdaLoRA tells a changed query from its unchanged key.
 */
const TEACHER_RANKS: readonly Readonly<Record<string, number>>[] = [
  { 'attention.self.query': 5, 'attention.self.key': 0, 'attention.self.value': 0, 'attention.output.dense': 0, 'intermediate.dense': 0, 'output.dense': 0 },
  { 'attention.self.query': 3, 'attention.self.key': 4, 'attention.self.value': 0, 'attention.output.dense': 0, 'intermediate.dense': 0, 'output.dense': 0 },
];
/** every singular value of a teacher update: a typical singular value of the Xavier-scaled W */
const TEACHER_SIGMA = 1;

/** Writes the base checkpoint and the teacher-labelled data under `dir`; same seed, same files. */
export async function createRankRecoveryTask(dir: string, seed = 1234, samples: { readonly train: number; readonly dev: number } = RANK_RECOVERY_SAMPLES): Promise<RankRecoveryTask> {
  const uniform = uniform01(mulberry32(seed + 1));
  const all = randomSequences(samples.train + samples.dev, uniform);
  const teacher = await createTeacherModel(join(dir, 'base-model'), { shape: SHAPE, ranks: TEACHER_RANKS, seed }, all);
  const lines = all.map((ids, i) => JSON.stringify({ input_ids: ids, label: teacher.labels[i] }));
  const trainFile = join(dir, 'train.jsonl');
  const devFile = join(dir, 'dev.jsonl');
  writeFileSync(trainFile, lines.slice(0, samples.train).join('\n') + '\n');
  writeFileSync(devFile, lines.slice(samples.train).join('\n') + '\n');
  writeFileSync(join(dir, 'true-ranks.json'), JSON.stringify(Object.fromEntries(teacher.trueRanks), null, 2));
  return { modelDir: teacher.modelDir, trainFile, devFile, trueRanks: teacher.trueRanks };
}

/** The size of a teacher task's random BERT. */
export interface TeacherShape {
  readonly vocab: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly maxPositions: number;
}

/** A teacher: the base model's shape, the rank of its update per layer and matrix, the seed of both. */
export interface TeacherSpec {
  readonly shape: TeacherShape;
  /** per layer, the rank of the teacher's update per matrix suffix (0 = unchanged) */
  readonly ranks: readonly Readonly<Record<string, number>>[];
  readonly seed: number;
}

export interface TeacherModel {
  readonly modelDir: string;
  readonly trueRanks: ReadonlyMap<ModuleId, number>;
  /** the teacher's output per row, scaled so that its change from the base has RMS 1 */
  readonly labels: readonly number[];
}

/**
 * Writes a seeded random BERT regression checkpoint to `modelDir` and labels `rows` (token ids,
 * any lengths) with a teacher: that model plus low-rank updates of `spec.ranks`. Head and labels
 * are scaled so the teacher's change has RMS 1.
 */
export async function createTeacherModel(modelDir: string, spec: TeacherSpec, rows: readonly (readonly number[])[]): Promise<TeacherModel> {
  mkdirSync(modelDir, { recursive: true });
  const normal = normalSampler(uniform01(mulberry32(spec.seed)));
  const weights = baseWeights(spec.shape, normal);
  const weightsFile = join(modelDir, 'model.safetensors');
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify(bertConfig(spec.shape), null, 2));
  writeSafetensors(weightsFile, weights);

  const { model } = await loadEncoder(modelDir);
  const trueRanks = new Map<ModuleId, number>();
  const updates: tf.Tensor2D[] = [];
  try {
    const base = outputs(model, rows);
    spec.ranks.forEach((ranks, layer) => {
      for (const [suffix, rank] of Object.entries(ranks)) {
        const id = moduleId(`bert.encoder.layer.${layer}.${suffix}`);
        trueRanks.set(id, rank);
        if (rank === 0) continue;
        const linear = model.linears.get(id);
        if (!linear) throw new Error(`teacher task: the base model has no layer ${id}`);
        const update = lowRankUpdate(linear.outFeatures, linear.inFeatures, rank, normal);
        updates.push(update);
        linear.adapter = { delta: (x) => tf.matMul(x, update, false, true) };
      }
    });
    const teacher = outputs(model, rows);
    // Scale head and target so the teacher's change has RMS 1: the MSE then starts near 1, as a
    // cross-entropy would. At the raw scale (~0.01) AdaLoRA's orthogonal regulariser swamps it
    // and A, B barely learn.
    let squares = 0;
    teacher.forEach((y, i) => (squares += (y - base[i]) ** 2));
    const scale = Math.sqrt(teacher.length / squares);
    for (const name of ['classifier.weight', 'classifier.bias']) weights.get(name)!.data.forEach((v, i, a) => (a[i] = v * scale));
    writeSafetensors(weightsFile, weights);
    return { modelDir, trueRanks, labels: Array.from(teacher, (y) => y * scale) };
  } finally {
    updates.forEach((u) => u.dispose());
    model.dispose();
  }
}

function bertConfig(shape: TeacherShape): Record<string, unknown> {
  return {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: shape.vocab,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    max_position_embeddings: shape.maxPositions,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    num_labels: 1,
    problem_type: 'regression',
  };
}

/** A BertForSequenceClassification state dict with Xavier-scaled linears, so no layer is negligible. */
function baseWeights(shape: TeacherShape, normal: () => number): Map<string, SafeTensor> {
  const w = new Map<string, SafeTensor>();
  const add = (name: string, shape: number[], std: number, mean = 0) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = std === 0 ? mean : mean + std * normal();
    w.set(name, { shape, data });
  };
  const { hidden: h, intermediate: f } = shape;
  const linear = (name: string, out: number, inp: number) => {
    add(`${name}.weight`, [out, inp], 1 / Math.sqrt(inp));
    add(`${name}.bias`, [out], 0.02);
  };
  const norm = (name: string) => {
    add(`${name}.weight`, [h], 0, 1);
    add(`${name}.bias`, [h], 0);
  };
  add('bert.embeddings.word_embeddings.weight', [shape.vocab, h], 1);
  add('bert.embeddings.position_embeddings.weight', [shape.maxPositions, h], 0.5);
  add('bert.embeddings.token_type_embeddings.weight', [2, h], 0.5);
  norm('bert.embeddings.LayerNorm');
  for (let l = 0; l < shape.layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) linear(`${p}.attention.self.${m}`, h, h);
    linear(`${p}.attention.output.dense`, h, h);
    norm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, f, h);
    linear(`${p}.output.dense`, h, f);
    norm(`${p}.output.LayerNorm`);
  }
  linear('bert.pooler.dense', h, h);
  linear('classifier', 1, h);
  return w;
}

/** ΔW = σ U Vᵀ with orthonormal U [out, r], V [in, r]: r equally strong directions. */
function lowRankUpdate(out: number, inp: number, rank: number, normal: () => number): tf.Tensor2D {
  return tf.tidy(() => {
    const u = orthonormalColumns(out, rank, normal); // (out, r)
    const v = orthonormalColumns(inp, rank, normal); // (in, r)
    return tf.matMul(u.mul(TEACHER_SIGMA), v, false, true) as tf.Tensor2D; // (out, in)
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

/** The model's output (one number) per row; rows of a chunk are padded with 0 and masked. */
function outputs(model: Awaited<ReturnType<typeof loadEncoder>>['model'], rows: readonly (readonly number[])[]): Float32Array {
  const out = new Float32Array(rows.length);
  for (let from = 0; from < rows.length; from += 64) {
    const part = rows.slice(from, from + 64);
    const seq = Math.max(...part.map((r) => r.length));
    const ids = new Int32Array(part.length * seq);
    const mask = new Int32Array(part.length * seq);
    part.forEach((r, i) => r.forEach((id, j) => ((ids[i * seq + j] = id), (mask[i * seq + j] = 1))));
    const y = tf.tidy(() => {
      const inputIds = tf.tensor2d(ids, [part.length, seq], 'int32');
      const attentionMask = tf.tensor2d(mask, [part.length, seq], 'int32');
      return model.forward({ inputIds, attentionMask }, false).logits; // (rows, 1)
    });
    out.set(y.dataSync(), from);
    y.dispose();
  }
  return out;
}
