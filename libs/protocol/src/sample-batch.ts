import type { WireSampleBatch } from './messages';
import { float32FromTensor, int32FromTensor, wireFromFloat32, wireFromInt32 } from './wire-tensor';

/**
 * A batch of samples: tokenized rows padded to a common `seq`, flat and row-major, with their
 * labels. The one batch type of the workspace: the data lib collates it, the coordinator cuts
 * it into shares, the wire carries it (as {@link WireSampleBatch}) and workers compute on it.
 */
export interface SampleBatch {
  readonly rows: number;
  readonly seq: number;
  readonly inputIds: Int32Array; // [rows, seq]
  readonly attentionMask: Int32Array; // [rows, seq]
  readonly tokenTypeIds?: Int32Array; // [rows, seq]
  /**
   * [rows] class ids (int32) or regression targets (float32); extractive QA: int32 [rows, 2],
   * each row's answer start and end token positions.
   */
  readonly labels: Int32Array | Float32Array;
}

/** Labels per row: 1 (a class or a target), or 2 (a QA answer's start and end). */
export function labelsPerRow(batch: Pick<SampleBatch, 'rows' | 'labels'>): 1 | 2 {
  if (batch.labels.length === batch.rows) return 1;
  if (batch.labels.length === 2 * batch.rows && batch.labels instanceof Int32Array) return 2;
  throw new RangeError(`a batch of ${batch.rows} rows has ${batch.labels.length} ${batch.labels instanceof Int32Array ? 'int32' : 'float32'} labels, expected ${batch.rows} (classes or targets) or ${2 * batch.rows} int32 (answer spans)`);
}

/** The wire form of `batch`, tagged with its data set row ids (one per row). Copies each array once. */
export function encodeSamples(sampleIds: readonly number[], batch: SampleBatch): WireSampleBatch {
  const { rows, seq } = batch;
  if (sampleIds.length !== rows) throw new RangeError(`encodeSamples: ${sampleIds.length} sample ids for ${rows} rows`);
  const grid = [rows, seq];
  const labels = batch.labels instanceof Float32Array
    ? wireFromFloat32([rows], batch.labels, 'float32', 'labels')
    : wireFromInt32(labelsPerRow(batch) === 2 ? [rows, 2] : [rows], batch.labels, 'labels');
  const base = {
    sampleIds: [...sampleIds],
    inputIds: wireFromInt32(grid, batch.inputIds, 'inputIds'),
    attentionMask: wireFromInt32(grid, batch.attentionMask, 'attentionMask'),
  };
  return batch.tokenTypeIds === undefined
    ? { ...base, labels }
    : { ...base, tokenTypeIds: wireFromInt32(grid, batch.tokenTypeIds, 'tokenTypeIds'), labels };
}

/** Flat, aligned arrays of a (checked) sample batch, plus its sample ids. */
export function decodeSamples(s: WireSampleBatch): SampleBatch & { readonly sampleIds: readonly number[] } {
  const [rows, seq] = s.inputIds.shape;
  if (s.inputIds.shape.length !== 2) throw new RangeError(`decodeSamples: inputIds must be [rows, seq], got rank ${s.inputIds.shape.length}`);
  const labels = s.labels.dtype === 'int32' ? int32FromTensor(s.labels) : float32FromTensor(s.labels);
  const base = {
    sampleIds: s.sampleIds,
    rows,
    seq,
    inputIds: int32FromTensor(s.inputIds),
    attentionMask: int32FromTensor(s.attentionMask),
    labels,
  };
  return s.tokenTypeIds === undefined ? base : { ...base, tokenTypeIds: int32FromTensor(s.tokenTypeIds) };
}
