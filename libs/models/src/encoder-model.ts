import type * as tf from '@tensorflow/tfjs';
import type { ModuleId } from '@adalora/core';
import type { Linear } from './linear';

/** One padded batch; ids and masks are int32 [batch, seq]. */
export interface EncoderInputs {
  readonly inputIds: tf.Tensor2D;
  readonly attentionMask: tf.Tensor2D; // 1 = token, 0 = padding
  readonly tokenTypeIds?: tf.Tensor2D; // BERT only; zeros when absent
}

export interface EncoderOutput {
  readonly lastHiddenState: tf.Tensor3D; // [batch, seq, hidden]
  readonly logits: tf.Tensor2D; // [batch, numLabels]
}

/**
 * A sequence-classification encoder (HF `*ForSequenceClassification`): frozen encoder
 * weights, every linear layer addressable by its HF module path (where adapters attach),
 * and a classification head that trains fully (peft `modules_to_save`).
 */
export interface EncoderModel {
  readonly modelType: string; // HF model_type: 'bert' | 'roberta' | 'deberta-v2'
  readonly numLabels: number; // 1 = regression (MSE), ≥ 2 = classification (cross-entropy)
  readonly hiddenSize: number;
  /** Every linear layer of the encoder (not the head), by HF module path. */
  readonly linears: ReadonlyMap<ModuleId, Linear>;
  /** The head's trainable tensors by HF weight name, e.g. `classifier.weight`. */
  readonly headParams: ReadonlyMap<string, tf.Variable>;
  forward(batch: EncoderInputs, training: boolean): EncoderOutput;
  dispose(): void;
}

/** What an extractive-QA model computes for one batch. */
export interface QaOutput {
  readonly lastHiddenState: tf.Tensor3D; // [batch, seq, hidden]
  readonly startLogits: tf.Tensor2D; // [batch, seq]
  readonly endLogits: tf.Tensor2D; // [batch, seq]
}

/**
 * An extractive question-answering model (HF `*ForQuestionAnswering`): frozen encoder weights
 * (no pooler), every linear layer addressable by its HF module path, and the `qa_outputs`
 * head, which trains fully.
 */
export interface QaModel {
  /** Tells a QA model from a classifier ({@link isQaModel}); peft's task type QUESTION_ANS. */
  readonly task: 'question-answering';
  readonly modelType: string; // HF model_type: 'bert' | 'roberta' | 'deberta-v2'
  readonly hiddenSize: number;
  /** Every linear layer of the encoder (not the head), by HF module path. */
  readonly linears: ReadonlyMap<ModuleId, Linear>;
  /** The head's trainable tensors: `qa_outputs.weight` [2, hidden], `qa_outputs.bias` [2]. */
  readonly headParams: ReadonlyMap<string, tf.Variable>;
  forward(batch: EncoderInputs, training: boolean): QaOutput;
  dispose(): void;
}

/** A model of either head: what adapters, peft adapter files and merging work on. */
export type TaskModel = EncoderModel | QaModel;

/** True for an extractive-QA model (start/end logits), false for a sequence classifier. */
export function isQaModel(model: TaskModel): model is QaModel {
  return 'task' in model && model.task === 'question-answering';
}
