// The shared HF fixtures of BERT and RoBERTa (shared/fixtures/bert|roberta) and helpers to compare with them.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import type { EncoderInputs } from '@adalora/models';
import { fixturePath } from './fixture-paths';

/** The BERT-family fixtures with a reference.json. */
export type BertFixture = 'bert' | 'roberta';

/** What reference.json holds (one padded batch and HF's outputs for it). */
export interface BertReference {
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly token_type_ids: number[][];
  readonly last_hidden_state: number[][][];
  readonly logits: number[][];
}

export function readBertReference(modelType: BertFixture): BertReference {
  return JSON.parse(readFileSync(fixturePath(modelType, 'reference.json'), 'utf8')) as BertReference;
}

/** The reference batch as int32 tensors (token type ids for BERT only, as HF was fed). */
export function bertReferenceBatch(modelType: BertFixture, ref: BertReference = readBertReference(modelType)): EncoderInputs {
  return {
    inputIds: tf.tensor2d(ref.input_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(ref.attention_mask, undefined, 'int32'),
    tokenTypeIds: modelType === 'bert' ? tf.tensor2d(ref.token_type_ids, undefined, 'int32') : undefined,
  };
}

/** max |a - b| over all elements. */
export function maxAbsError(actual: tf.Tensor, expected: unknown[]): number {
  const a = actual.dataSync();
  const e = expected.flat(Infinity) as number[];
  if (a.length !== e.length) throw new Error(`maxAbsError: ${a.length} values vs ${e.length} expected`);
  let m = 0;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(a[i] - e[i]));
  return m;
}

/** One raw safetensors entry, for writing files the float32 encoder cannot (other dtypes, faults). */
export interface RawEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Bytes of a safetensors file holding `entries` in order, with `header` overrides merged in. */
export function rawSafetensors(entries: readonly RawEntry[], header: Record<string, unknown> = {}): Uint8Array {
  const h: Record<string, unknown> = {};
  let offset = 0;
  for (const e of entries) {
    h[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify({ ...h, ...header }));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}
