import * as tf from '@tensorflow/tfjs';
import { sequenceClassificationLoss, type EncoderModel } from '@adalora/models';
import { disposeEncoderBatch, sliceRows, toEncoderBatch, type LabeledBatch } from './labeled-batch';

/** A worker's share of one optimizer step: sums over its samples, so shares of any size add up. */
export interface GradientSums {
  readonly count: number;
  readonly lossSum: number;
  /** Σ over samples of ∂(task loss)/∂θ for every trainable tensor, by trainable name. */
  readonly grads: Map<string, Float32Array>;
}

/**
 * Task-loss gradient sums of `trainables` over `batch`, micro-batch by micro-batch so that
 * memory stays bounded whatever the share. The orthogonal regulariser is not included: it
 * depends on the weights alone, so the coordinator adds it once for the global step.
 */
export function computeGradientSums(
  model: EncoderModel,
  trainables: ReadonlyMap<string, tf.Variable>,
  batch: LabeledBatch,
  microBatch: number,
  training = true,
): GradientSums {
  const names = [...trainables.keys()];
  const vars = names.map((n) => trainables.get(n)!);
  const acc = vars.map((v) => tf.zerosLike(v) as tf.Tensor);
  let lossSum = 0;
  try {
    for (let from = 0; from < batch.rows; from += microBatch) {
      const part = sliceRows(batch, from, Math.min(batch.rows, from + microBatch));
      const lossValue = tf.tidy(() => {
        const inputs = toEncoderBatch(part);
        const labels = part.labels instanceof Float32Array ? tf.tensor1d(part.labels, 'float32') : tf.tensor1d(part.labels, 'int32');
        const { value, grads } = tf.variableGrads(() => {
          const { logits } = model.forward(inputs, training);
          return sequenceClassificationLoss(logits, labels, model.numLabels, 'sum') as tf.Scalar;
        }, vars);
        disposeEncoderBatch(inputs);
        names.forEach((_, i) => {
          const g = grads[vars[i].name];
          if (!g) return; // a tensor the loss does not reach (e.g. B·0) has gradient 0
          const next = acc[i].add(g);
          acc[i].dispose();
          acc[i] = tf.keep(next);
        });
        return value.dataSync()[0];
      });
      lossSum += lossValue;
    }
    const out = new Map<string, Float32Array>();
    // copy: a backend may hand back a view of its own memory
    names.forEach((n, i) => out.set(n, Float32Array.from(acc[i].dataSync())));
    return { count: batch.rows, lossSum, grads: out };
  } finally {
    acc.forEach((t) => t.dispose());
  }
}
