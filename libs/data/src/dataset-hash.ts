import { createHash } from 'node:crypto';
import { DataError } from './data-error';
import type { Dataset } from './dataset';

const MAGIC = 'adalora-dataset/v1\n';
const ABSENT = 0xffffffff;

/**
 * SHA-256 (hex) of a dataset's canonical encoding, for run identity: two datasets hash equal
 * exactly when their numLabels, labelNames, example order, ids, masks, type ids and labels are
 * equal. Encoding (all integers little-endian):
 *   "adalora-dataset/v1\n" · u32 numLabels · labelNames as u32 byte length + UTF-8 JSON
 *   (u32 0xffffffff when absent) · u32 example count · per example: u32 length, u8 flags
 *   (1 = tokenTypeIds, 2 = attentionMask, 4 = answer-span label), i32 inputIds, [i32 tokenTypeIds],
 *   [i32 attentionMask], f64 label (an answer span: f64 start, f64 end).
 */
export function datasetHash(dataset: Dataset): string {
  const h = createHash('sha256');
  h.update(MAGIC, 'utf8');
  const names = dataset.labelNames === undefined ? undefined : Buffer.from(JSON.stringify(dataset.labelNames), 'utf8');
  h.update(u32(dataset.numLabels));
  h.update(u32(names === undefined ? ABSENT : names.length));
  if (names !== undefined) h.update(names);
  h.update(u32(dataset.examples.length));
  for (const e of dataset.examples) {
    const len = e.inputIds.length;
    const parts = [e.inputIds, e.tokenTypeIds, e.attentionMask].filter((a): a is Int32Array => a !== undefined);
    const label = typeof e.label === 'number' ? [e.label] : [...e.label];
    const buf = Buffer.alloc(5 + 4 * len * parts.length + 8 * label.length);
    buf.writeUInt32LE(len, 0);
    buf.writeUInt8((e.tokenTypeIds ? 1 : 0) | (e.attentionMask ? 2 : 0) | (typeof e.label === 'number' ? 0 : 4), 4);
    let off = 5;
    for (const a of parts) {
      // A mask or type array of another length would make the encoding ambiguous.
      if (a.length !== len) throw new DataError('DATA_ERR_BAD_FIELD', `datasetHash: example arrays differ in length (${a.length} vs inputIds ${len})`);
      for (let k = 0; k < len; k++, off += 4) buf.writeInt32LE(a[k], off);
    }
    for (const v of label) off = buf.writeDoubleLE(v, off);
    h.update(buf);
  }
  return h.digest('hex');
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}
