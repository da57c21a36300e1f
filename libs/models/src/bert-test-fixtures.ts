// Test support (not exported from the lib): the shared HF fixtures for BERT and RoBERTa.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EncoderBatch } from './encoder-model';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');

/** What reference.json holds (one padded batch and HF's outputs for it). */
export interface Reference {
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly token_type_ids: number[][];
  readonly last_hidden_state: number[][][];
  readonly logits: number[][];
}

export function readReference(modelType: 'bert' | 'roberta'): Reference {
  return JSON.parse(readFileSync(path.join(fixturesDir, modelType, 'reference.json'), 'utf8')) as Reference;
}

/** The reference batch as int32 tensors (token type ids for BERT only, as HF was fed). */
export function referenceBatch(modelType: 'bert' | 'roberta', ref: Reference = readReference(modelType)): EncoderBatch {
  return {
    inputIds: tf.tensor2d(ref.input_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(ref.attention_mask, undefined, 'int32'),
    tokenTypeIds: modelType === 'bert' ? tf.tensor2d(ref.token_type_ids, undefined, 'int32') : undefined,
  };
}

export function disposeBatch(b: EncoderBatch): void {
  b.inputIds.dispose();
  b.attentionMask.dispose();
  b.tokenTypeIds?.dispose();
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
