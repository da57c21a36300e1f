import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { moduleId } from '@adalora/core';
import { buildDebertaV2, HfConfig, readSafetensors, WeightStore, type EncoderInputs, type EncoderModel, type LinearAdapter, type SafeTensor } from '@adalora/models';
import { fixturePath } from './fixture-paths';

// The DeBERTa-v2 fixture (shared/fixtures/deberta-v2) for the DeBERTa tests on both backends.

/** What HF computed for one padded batch (see shared/fixtures/README.md). */
export interface DebertaReference {
  input_ids: number[][];
  attention_mask: number[][];
  last_hidden_state: number[][][];
  logits: number[][];
  adalora_logits: number[][];
}

export const readDebertaReference = (): DebertaReference =>
  JSON.parse(readFileSync(fixturePath('deberta-v2', 'reference.json'), 'utf8')) as DebertaReference;

export const debertaFixtureTensors = (): Map<string, SafeTensor> => readSafetensors(fixturePath('deberta-v2', 'model.safetensors'));

/** The peft AdaLoRA adapter of the fixture (rank 3, lora_alpha 8, init_r 4). */
export const debertaAdapterTensors = (): Map<string, SafeTensor> => readSafetensors(fixturePath('deberta-v2', 'adalora-adapter/adapter_model.safetensors'));

/** The fixture model, with config fields overridden and the weights optionally replaced. */
export function loadDebertaFixtureModel(overrides: Record<string, unknown> = {}, tensors: Map<string, SafeTensor> = debertaFixtureTensors()): EncoderModel {
  const json = JSON.parse(readFileSync(fixturePath('deberta-v2', 'config.json'), 'utf8')) as Record<string, unknown>;
  return buildDebertaV2(new HfConfig({ ...json, ...overrides }, 'deberta-v2/config.json'), new WeightStore(tensors, 'deberta-v2/model.safetensors'));
}

export function debertaReferenceBatch(ref: DebertaReference): EncoderInputs {
  return { inputIds: tf.tensor2d(ref.input_ids, undefined, 'int32'), attentionMask: tf.tensor2d(ref.attention_mask, undefined, 'int32') };
}

/** max |a - b| over two tensors of one shape. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor | number[][] | number[][][]): number {
  return tf.tidy(() => {
    const bt = b instanceof tf.Tensor ? b : tf.tensor(b);
    if (a.shape.join() !== bt.shape.join()) throw new Error(`shape [${a.shape}] vs [${bt.shape}]`);
    return a.sub(bt).abs().max().dataSync()[0];
  });
}

/** An adapter branch x·M whose M the test sets, so gradients can be taken with respect to M. */
class ProbeAdapter implements LinearAdapter {
  m: tf.Tensor | null = null;
  delta(x: tf.Tensor): tf.Tensor {
    return tf.matMul(x, this.m!);
  }
}

// The modules probed: layer 0 key_proj (content keys and, shared, the c2p position keys) and
// layer 1 query_proj (content queries and the p2c position queries).
const PROBED = ['deberta.encoder.layer.0.attention.self.key_proj', 'deberta.encoder.layer.1.attention.self.query_proj'];

/**
 * Gradients of a fixed random projection of (logits, last_hidden_state) with respect to
 * adapter matrices on two attention projections: tf.grads against central differences of the
 * loss along two directions. Returns the worst relative error, the gradient's norm and how many
 * tensors a second grad call leaves behind.
 */
export function debertaGradientCheck(model: EncoderModel, batch: EncoderInputs, eps = 1e-2): { worstRelError: number; leakedTensors: number; gradNorm: number } {
  const probes = PROBED.map((id) => {
    const probe = new ProbeAdapter();
    model.linears.get(moduleId(id))!.adapter = probe;
    return probe;
  });
  const size = model.hiddenSize;
  const ms = probes.map((_, i) => tf.randomNormal([size, size], 0, 0.05, 'float32', 7 + i));
  const [b, l] = batch.inputIds.shape;
  const wLogits = tf.randomNormal([b, model.numLabels], 0, 1, 'float32', 3);
  const wHidden = tf.randomNormal([b, l, size], 0, 0.1, 'float32', 4);
  const loss = (...m: tf.Tensor[]): tf.Scalar => {
    m.forEach((t, i) => (probes[i].m = t));
    const out = model.forward(batch, true); // training: adapters see training = true; dropout is 0 here
    return out.logits.mul(wLogits).sum().add(out.lastHiddenState.mul(wHidden).sum()) as tf.Scalar;
  };
  try {
    const grads = tf.grads(loss)(ms);
    const before = tf.memory().numTensors;
    tf.grads(loss)(ms).forEach((g) => g.dispose());
    const leakedTensors = tf.memory().numTensors - before;
    // Directional derivatives (all coordinates at once, so the float32 loss differences stay
    // well above rounding): along sign(grad), and along a fixed random ±1 direction.
    const directions = tf.tidy(() => [grads.map((g) => tf.sign(g)), grads.map((g, i) => tf.randomUniform(g.shape, 0, 1, 'float32', 11 + i).greater(0.5).toFloat().mul(2).sub(1))]);
    let worstRelError = 0;
    const gradNorm = Math.sqrt(grads.reduce((s, g) => s + tf.tidy(() => g.square().sum().dataSync()[0]), 0));
    for (const dirs of directions) {
      const analytic = tf.tidy(() => grads.reduce((s, g, i) => s + g.mul(dirs[i]).sum().dataSync()[0], 0));
      const at = (e: number) => tf.tidy(() => loss(...ms.map((m, i) => m.add(dirs[i].mul(e)))).dataSync()[0]);
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      worstRelError = Math.max(worstRelError, Math.abs(numeric - analytic) / Math.abs(analytic));
    }
    tf.dispose(directions);
    grads.forEach((g) => g.dispose());
    return { worstRelError, leakedTensors, gradNorm };
  } finally {
    PROBED.forEach((id) => (model.linears.get(moduleId(id))!.adapter = null));
    tf.dispose([...ms, wLogits, wHidden]);
  }
}

/** numTensors after each of `n` forwards whose outputs are disposed. */
export function tensorCountsOverForwards(model: EncoderModel, batch: EncoderInputs, n: number): number[] {
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const out = model.forward(batch, false);
    tf.dispose([out.lastHiddenState, out.logits]);
    counts.push(tf.memory().numTensors);
  }
  return counts;
}
