import * as tf from '@tensorflow/tfjs';
import type { EncoderInputs } from '@adalora/models';
import { labelsPerRow, type SampleBatch } from '@adalora/protocol';


/** Rows [from, to) of a batch, sharing no memory with it. */
export function sliceRows(b: SampleBatch, from: number, to: number): SampleBatch {
  // typed-array slice clamps silently: out-of-range rows would give a batch whose `rows` lies
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || from > to || to > b.rows) {
    throw new RangeError(`sliceRows: expected integers 0 <= from <= to <= rows (${b.rows}), got from ${from}, to ${to}`);
  }
  const cut = (a: Int32Array) => a.slice(from * b.seq, to * b.seq);
  return {
    rows: to - from,
    seq: b.seq,
    inputIds: cut(b.inputIds),
    attentionMask: cut(b.attentionMask),
    tokenTypeIds: b.tokenTypeIds ? cut(b.tokenTypeIds) : undefined,
    labels: b.labels.slice(from * labelsPerRow(b), to * labelsPerRow(b)), // QA: a start and an end per row
  };
}

/** The given rows of a batch, in the given order, sharing no memory with it. */
export function gatherRows(b: SampleBatch, rows: readonly number[]): SampleBatch {
  // an index out of range would silently become a short row of zeros and label 0
  const bad = rows.findIndex((r) => !Number.isInteger(r) || r < 0 || r >= b.rows);
  if (bad >= 0) throw new RangeError(`gatherRows: rows[${bad}] must be an integer in [0, ${b.rows}), got ${rows[bad]}`);
  const pick = (a: Int32Array) => {
    const out = new Int32Array(rows.length * b.seq);
    rows.forEach((r, i) => out.set(a.subarray(r * b.seq, (r + 1) * b.seq), i * b.seq));
    return out;
  };
  const w = labelsPerRow(b); // QA: a start and an end per row
  const labels = b.labels instanceof Float32Array ? new Float32Array(rows.length * w) : new Int32Array(rows.length * w);
  rows.forEach((r, i) => labels.set(b.labels.subarray(r * w, (r + 1) * w), i * w));
  return {
    rows: rows.length,
    seq: b.seq,
    inputIds: pick(b.inputIds),
    attentionMask: pick(b.attentionMask),
    tokenTypeIds: b.tokenTypeIds ? pick(b.tokenTypeIds) : undefined,
    labels,
  };
}

/** The model's input tensors for a batch; the caller disposes them. */
export function toEncoderInputs(b: SampleBatch): EncoderInputs {
  const shape: [number, number] = [b.rows, b.seq];
  return {
    inputIds: tf.tensor2d(b.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(b.attentionMask, shape, 'int32'),
    tokenTypeIds: b.tokenTypeIds ? tf.tensor2d(b.tokenTypeIds, shape, 'int32') : undefined,
  };
}

export function disposeEncoderInputs(b: EncoderInputs): void {
  b.inputIds.dispose();
  b.attentionMask.dispose();
  b.tokenTypeIds?.dispose();
}
