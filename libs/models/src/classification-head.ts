import * as tf from '@tensorflow/tfjs';
import { dropout } from './ops';
import type { WeightStore } from './weights';
import { trainableLinears } from './trainable-linears';

/**
 * A sequence-classification head: trainable tensors (peft `modules_to_save`) keyed by their
 * HF weight name, applied to one feature vector per row.
 */
export interface ClassificationHead {
  /** Trainable tensors by HF weight name, e.g. `classifier.weight`. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /** features [B, H] -> logits [B, numLabels] */
  apply(features: tf.Tensor2D, training: boolean): tf.Tensor2D;
  dispose(): void;
}

/** Sizes and rates a head needs, read from the model's config. */
export interface HeadShape {
  readonly hiddenSize: number;
  readonly numLabels: number;
  readonly dropout: number; // classifier_dropout ?? hidden_dropout_prob
  readonly initializerRange: number; // std of a newly created weight, as HF _init_weights
}

/**
 * BERT's head (`BertForSequenceClassification.classifier`): dropout then
 * Linear(hidden, numLabels), applied to the pooler output.
 */
export function bertClassifier(weights: WeightStore, shape: HeadShape): ClassificationHead {
  const params = trainableLinears(weights, shape.initializerRange, [['classifier', shape.numLabels, shape.hiddenSize]]);
  const w = params.get('classifier.weight')!;
  const b = params.get('classifier.bias')!;
  return {
    params,
    apply: (pooled, training) => tf.tidy(() => dense(dropout(pooled, shape.dropout, training), w, b)),
    dispose: () => params.forEach((p) => p.dispose()),
  };
}

/**
 * RoBERTa's head (`RobertaClassificationHead`), applied to the `<s>` token's hidden state:
 * dropout, dense + tanh, dropout, out_proj. It has no pooler before it.
 */
export function robertaClassificationHead(weights: WeightStore, shape: HeadShape): ClassificationHead {
  const params = trainableLinears(weights, shape.initializerRange, [
    ['classifier.dense', shape.hiddenSize, shape.hiddenSize],
    ['classifier.out_proj', shape.numLabels, shape.hiddenSize],
  ]);
  const [dw, db, ow, ob] = ['dense.weight', 'dense.bias', 'out_proj.weight', 'out_proj.bias'].map((n) => params.get(`classifier.${n}`)!);
  return {
    params,
    apply: (first, training) =>
      tf.tidy(() => {
        const x = tf.tanh(dense(dropout(first, shape.dropout, training), dw, db)); // (B, H)
        return dense(dropout(x, shape.dropout, training), ow, ob); // (B, numLabels)
      }),
    dispose: () => params.forEach((p) => p.dispose()),
  };
}

// x [B, in] · Wᵀ [in, out] + b: the head is tiny, so the transposed matmul costs nothing here.
function dense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true).add(b) as tf.Tensor2D;
}

