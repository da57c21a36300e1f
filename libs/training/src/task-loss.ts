import * as tf from '@tensorflow/tfjs';
import { isQaModel, questionAnsweringLoss, sequenceClassificationLoss, type EncoderInputs, type TaskModel } from '@adalora/models';
import type { SampleBatch } from '@adalora/protocol';

/**
 * A micro-batch's labels as the tensors its loss needs: [class ids] (int32 [B]) or [targets]
 * (float32 [B]) for a classifier, [starts, ends] (each int32 [B]) of the answer spans (int32
 * [B, 2] flat) for a QA model. Made outside the gradient tape, as constants; the caller disposes them.
 */
export function taskLabelTensors(model: TaskModel, labels: SampleBatch['labels'], rows: number): tf.Tensor1D[] {
  if (!isQaModel(model)) return [labels instanceof Float32Array ? tf.tensor1d(labels, 'float32') : tf.tensor1d(labels, 'int32')];
  if (!(labels instanceof Int32Array) || labels.length !== 2 * rows) {
    throw new Error(`taskLabelTensors: a QA batch of ${rows} rows needs int32 answer spans [${rows}, 2], got ${labels.length} ${labels instanceof Int32Array ? 'int32' : 'float32'} labels`);
  }
  const starts = Int32Array.from({ length: rows }, (_, r) => labels[2 * r]);
  const ends = Int32Array.from({ length: rows }, (_, r) => labels[2 * r + 1]);
  return [tf.tensor1d(starts, 'int32'), tf.tensor1d(ends, 'int32')];
}

/**
 * The summed task loss of one micro-batch: cross-entropy (or MSE) of a classifier's logits, or
 * extractive QA's loss (HF's mean of start and end cross-entropies per row, summed over rows)
 * of its start/end logits. `labels` from {@link taskLabelTensors}. A scalar the caller
 * differentiates.
 */
export function taskLossSum(model: TaskModel, inputs: EncoderInputs, labels: readonly tf.Tensor1D[], training: boolean): tf.Scalar {
  if (!isQaModel(model)) return sequenceClassificationLoss(model.forward(inputs, training).logits, labels[0], model.numLabels, 'sum') as tf.Scalar;
  const { startLogits, endLogits } = model.forward(inputs, training);
  return questionAnsweringLoss(startLogits, endLogits, labels[0], labels[1], 'sum');
}

/**
 * What evaluation returns per row, flat [rows, width]: a classifier's logits (width numLabels),
 * or a QA model's start logits then end logits (width 2·seq). A fresh tensor.
 */
export function evalOutputs(model: TaskModel, inputs: EncoderInputs): tf.Tensor2D {
  return tf.tidy(() => {
    if (!isQaModel(model)) return model.forward(inputs, false).logits;
    const { startLogits, endLogits } = model.forward(inputs, false);
    return tf.concat([startLogits, endLogits], 1) as tf.Tensor2D; // (B, 2·S)
  });
}

/** Outputs per row of {@link evalOutputs} for a batch of `seq` tokens. */
export function evalWidth(model: TaskModel, seq: number): number {
  return isQaModel(model) ? 2 * seq : model.numLabels;
}
