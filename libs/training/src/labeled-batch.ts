import * as tf from '@tensorflow/tfjs';
import type { EncoderBatch } from '@adalora/models';

/** Padded, tokenized samples as flat row-major arrays: what workers receive and compute on. */
export interface LabeledBatch {
  readonly rows: number;
  readonly seq: number;
  readonly inputIds: Int32Array; // [rows, seq]
  readonly attentionMask: Int32Array; // [rows, seq]
  readonly tokenTypeIds?: Int32Array; // [rows, seq]
  readonly labels: Int32Array | Float32Array; // [rows]: class ids, or targets for regression
}

/** Rows [from, to) of a batch, sharing no memory with it. */
export function sliceRows(b: LabeledBatch, from: number, to: number): LabeledBatch {
  const cut = (a: Int32Array) => a.slice(from * b.seq, to * b.seq);
  return {
    rows: to - from,
    seq: b.seq,
    inputIds: cut(b.inputIds),
    attentionMask: cut(b.attentionMask),
    tokenTypeIds: b.tokenTypeIds ? cut(b.tokenTypeIds) : undefined,
    labels: b.labels.slice(from, to),
  };
}

/** The model's input tensors for a batch; the caller disposes them. */
export function toEncoderBatch(b: LabeledBatch): EncoderBatch {
  const shape: [number, number] = [b.rows, b.seq];
  return {
    inputIds: tf.tensor2d(b.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(b.attentionMask, shape, 'int32'),
    tokenTypeIds: b.tokenTypeIds ? tf.tensor2d(b.tokenTypeIds, shape, 'int32') : undefined,
  };
}

export function disposeEncoderBatch(b: EncoderBatch): void {
  b.inputIds.dispose();
  b.attentionMask.dispose();
  b.tokenTypeIds?.dispose();
}
