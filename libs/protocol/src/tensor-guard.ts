/**
 * Guards for the structured parts of messages: wire tensors, tensor lists, sample batches and
 * the JSON run config. Internal to the lib; the message guards compose them.
 */
import { array, badField, fail, indexArray, integer, isRecord, object, string, type Ctx } from './fields';
import { PROTOCOL_LIMITS } from './limits';
import type { JsonObject, JsonValue, WireSampleBatch } from './messages';
import { DTYPE_BYTES, firstNonFinite, isWireDtype, type NamedTensor, type WireDtype, type WireTensor } from './wire-tensor';

const TENSOR_KEYS = ['dtype', 'shape', 'data'] as const;
const NAMED_TENSOR_KEYS = ['name', 'dtype', 'shape', 'data'] as const;

/** What a tensor field may hold. */
export interface TensorRule {
  readonly dtypes: readonly WireDtype[];
  /** Exact rank, when fixed. */
  readonly rank?: number;
  /** float values not checked for NaN / ∞ here: the consumer checks them in its own pass (see GradientValues) */
  readonly valuesUnchecked?: boolean;
}

/** Reads and checks a wire tensor: dtype allowed, shape sane, bytes = shape × element size, floats finite (unless the rule leaves that to the consumer). */
export function wireTensor(ctx: Ctx, field: string, u: unknown, rule: TensorRule): WireTensor {
  const o = object(ctx, field, u, TENSOR_KEYS);
  return checkedTensor(ctx, field, o, rule);
}

function checkedTensor(ctx: Ctx, field: string, o: Record<string, unknown>, rule: TensorRule): WireTensor {
  const dtype = o.dtype;
  if (!isWireDtype(dtype) || !rule.dtypes.includes(dtype)) {
    if (typeof dtype === 'string' && dtype.length <= 16) {
      fail(ctx, `${field}.dtype`, 'PROTO_ERR_BAD_FIELD', `expected one of ${rule.dtypes.join(', ')}, got '${dtype}'`);
    }
    badField(ctx, `${field}.dtype`, `one of ${rule.dtypes.join(', ')}`, dtype);
  }
  const rawShape = o.shape;
  if (!Array.isArray(rawShape)) badField(ctx, `${field}.shape`, 'an array of dimensions', rawShape);
  if (rawShape.length > PROTOCOL_LIMITS.maxRank) {
    fail(ctx, `${field}.shape`, 'PROTO_ERR_BAD_FIELD', `expected rank ≤ ${PROTOCOL_LIMITS.maxRank}, got rank ${rawShape.length}`);
  }
  if (rule.rank !== undefined && rawShape.length !== rule.rank) {
    fail(ctx, `${field}.shape`, 'PROTO_ERR_BAD_FIELD', `expected rank ${rule.rank}, got rank ${rawShape.length}`);
  }
  const shape = new Array<number>(rawShape.length);
  let count = 1;
  for (let i = 0; i < rawShape.length; i++) {
    shape[i] = integer(ctx, `${field}.shape[${i}]`, rawShape[i], 0, 0x7fffffff);
    count *= shape[i];
  }
  const data = o.data;
  if (!(data instanceof Uint8Array)) badField(ctx, `${field}.data`, 'binary', data);
  const need = count * DTYPE_BYTES[dtype]; // if inexact (> 2^53) it cannot equal any real byteLength either
  if (need !== data.byteLength) {
    fail(ctx, `${field}.data`, 'PROTO_ERR_BAD_FIELD', `${dtype} [${shape.join(', ')}] needs ${need} bytes, got ${data.byteLength}`);
  }
  const bad = rule.valuesUnchecked ? -1 : firstNonFinite({ dtype, shape, data });
  if (bad >= 0) fail(ctx, `${field}.data`, 'PROTO_ERR_NON_FINITE', `element ${bad} is NaN or infinite`);
  return { dtype, shape, data };
}

/** Reads a list of named float tensors (gradients, state): bounded count, unique bounded names. */
export function namedTensorList(ctx: Ctx, field: string, u: unknown, rule: TensorRule): NamedTensor[] {
  const items = array(ctx, field, u, PROTOCOL_LIMITS.maxTensors);
  const seen = new Set<string>();
  const out = new Array<NamedTensor>(items.length);
  for (let i = 0; i < items.length; i++) {
    const at = `${field}[${i}]`;
    const o = object(ctx, at, items[i], NAMED_TENSOR_KEYS);
    const name = string(ctx, `${at}.name`, o.name, { max: PROTOCOL_LIMITS.maxNameChars });
    if (seen.has(name)) {
      fail(ctx, `${at}.name`, 'PROTO_ERR_BAD_FIELD', name.length <= 128 ? `duplicate tensor name '${name}'` : 'duplicate tensor name');
    }
    seen.add(name);
    out[i] = { name, ...checkedTensor(ctx, at, o, rule) };
  }
  return out;
}

// Byte-level value checks on little-endian int32 data (any byteOffset, no copy).

/** Index of the first negative int32, or -1. */
function firstNegative(data: Uint8Array): number {
  for (let i = 3; i < data.length; i += 4) if ((data[i] & 0x80) !== 0) return (i - 3) / 4;
  return -1;
}

/** Index of the first int32 that is neither 0 nor 1, or -1. */
function firstNotBit(data: Uint8Array): number {
  for (let i = 0; i < data.length; i += 4) {
    if ((data[i] | 1) !== 1 || (data[i + 1] | data[i + 2] | data[i + 3]) !== 0) return i / 4;
  }
  return -1;
}

/** Reads a pre-tokenized sample batch; n ≥ 1 rows, seq ≥ 1, every shape consistent. */
export function sampleBatch(ctx: Ctx, field: string, u: unknown): WireSampleBatch {
  const o = object(ctx, field, u, ['sampleIds', 'inputIds', 'attentionMask', 'labels'], ['tokenTypeIds']);
  const sampleIds = indexArray(ctx, `${field}.sampleIds`, o.sampleIds, PROTOCOL_LIMITS.maxRows);
  const n = sampleIds.length;
  if (n === 0) fail(ctx, `${field}.sampleIds`, 'PROTO_ERR_BAD_FIELD', 'expected at least one sample, got none');

  const ids = wireTensor(ctx, `${field}.inputIds`, o.inputIds, { dtypes: ['int32'], rank: 2 });
  const [rows, seq] = ids.shape;
  if (rows !== n) fail(ctx, `${field}.inputIds.shape`, 'PROTO_ERR_BAD_FIELD', `expected ${n} rows (one per sample id), got ${rows}`);
  if (seq === 0) fail(ctx, `${field}.inputIds.shape`, 'PROTO_ERR_BAD_FIELD', 'expected seq ≥ 1, got 0');
  const negId = firstNegative(ids.data);
  if (negId >= 0) fail(ctx, `${field}.inputIds.data`, 'PROTO_ERR_BAD_FIELD', `element ${negId} is a negative token id`);

  const sameShape = (name: string, t: WireTensor) => {
    if (t.shape[0] !== rows || t.shape[1] !== seq) {
      fail(ctx, `${field}.${name}.shape`, 'PROTO_ERR_BAD_FIELD', `expected [${rows}, ${seq}] like inputIds, got [${t.shape.join(', ')}]`);
    }
  };
  const attentionMask = wireTensor(ctx, `${field}.attentionMask`, o.attentionMask, { dtypes: ['int32'], rank: 2 });
  sameShape('attentionMask', attentionMask);
  const notBit = firstNotBit(attentionMask.data);
  if (notBit >= 0) fail(ctx, `${field}.attentionMask.data`, 'PROTO_ERR_BAD_FIELD', `element ${notBit} is not 0 or 1`);

  let tokenTypeIds: WireTensor | undefined;
  if (o.tokenTypeIds !== undefined) {
    tokenTypeIds = wireTensor(ctx, `${field}.tokenTypeIds`, o.tokenTypeIds, { dtypes: ['int32'], rank: 2 });
    sameShape('tokenTypeIds', tokenTypeIds);
    const neg = firstNegative(tokenTypeIds.data);
    if (neg >= 0) fail(ctx, `${field}.tokenTypeIds.data`, 'PROTO_ERR_BAD_FIELD', `element ${neg} is a negative token type id`);
  }

  // [n] class ids or regression targets; int32 [n, 2]: extractive QA's answer start and end positions
  const labels = wireTensor(ctx, `${field}.labels`, o.labels, { dtypes: ['int32', 'float32'] });
  const spans = labels.shape.length === 2 && labels.shape[1] === 2 && labels.dtype === 'int32';
  if (labels.shape[0] !== n || !(labels.shape.length === 1 || spans)) {
    fail(ctx, `${field}.labels.shape`, 'PROTO_ERR_BAD_FIELD', `expected [${n}] (or int32 [${n}, 2] answer spans), got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  if (labels.dtype === 'int32') {
    const neg = firstNegative(labels.data);
    if (neg >= 0) fail(ctx, `${field}.labels.data`, 'PROTO_ERR_BAD_FIELD', `element ${neg} is a negative ${spans ? 'token position' : 'class id'}`);
  }
  return tokenTypeIds === undefined
    ? { sampleIds, inputIds: ids, attentionMask, labels }
    : { sampleIds, inputIds: ids, attentionMask, tokenTypeIds, labels };
}

/** Reads the JSON run config: a plain object, bounded depth and size, finite numbers, no binary. */
export function jsonObject(ctx: Ctx, field: string, u: unknown): JsonObject {
  let budget = PROTOCOL_LIMITS.maxJsonNodes;
  const walk = (v: unknown, at: string, depth: number): JsonValue => {
    if (--budget < 0) fail(ctx, field, 'PROTO_ERR_TOO_LARGE', `holds more than ${PROTOCOL_LIMITS.maxJsonNodes} values`);
    if (depth > PROTOCOL_LIMITS.maxJsonDepth) fail(ctx, at, 'PROTO_ERR_TOO_LARGE', `nests deeper than ${PROTOCOL_LIMITS.maxJsonDepth}`);
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(ctx, at, 'PROTO_ERR_NON_FINITE', `expected a finite number, got ${v}`);
      return v;
    }
    if (typeof v === 'string') return string(ctx, at, v, { min: 0, max: PROTOCOL_LIMITS.maxTextChars * 16 });
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}[${i}]`, depth + 1));
    if (isRecord(v)) {
      const out: Record<string, JsonValue> = {};
      for (const k of Object.keys(v)) {
        const key = string(ctx, `${at} key`, k, { min: 0, max: PROTOCOL_LIMITS.maxNameChars });
        const value = walk(v[k], k.length <= 64 ? `${at}.${k}` : `${at}.<key>`, depth + 1);
        // defineProperty, not assignment: a key '__proto__' must stay a plain key
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return badField(ctx, at, 'JSON (null, boolean, number, string, array or object)', v);
  };
  if (!isRecord(u)) badField(ctx, field, 'a JSON object', u);
  return walk(u, field, 0) as JsonObject;
}
