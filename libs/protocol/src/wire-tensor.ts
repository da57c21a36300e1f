import { squaresOf } from './wire-arithmetic';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16';
import { protocolError } from './protocol-error';

/** Element types on the wire. Names, not numbers, so that reordering never changes the protocol. */
export type WireDtype = 'float64' | 'float32' | 'float16' | 'int32';

/** The float encodings a sender may choose for values it holds in float64 or float32. */
export type FloatWire = 'float64' | 'float32' | 'float16';

/** Bytes per element of each wire dtype. */
export const DTYPE_BYTES: Readonly<Record<WireDtype, number>> = { float64: 8, float32: 4, float16: 2, int32: 4 };

/** True for a dtype this protocol knows. */
export function isWireDtype(u: unknown): u is WireDtype {
  return u === 'float64' || u === 'float32' || u === 'float16' || u === 'int32';
}

/**
 * A tensor as it travels: row-major values as raw little-endian bytes. `data` may be a view at
 * any byteOffset (msgpackr hands back subarrays of the frame); never build a typed-array view on
 * it directly, use `float32FromTensor` / `int32FromTensor`, which copy once into aligned memory.
 */
export interface WireTensor {
  readonly dtype: WireDtype;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** A wire tensor with a name (the trainable's name, e.g. `<module path>.lora_A`). */
export interface NamedTensor extends WireTensor {
  readonly name: string;
}

// The wire is little-endian and so are the typed arrays we copy into: refuse to run otherwise
// rather than silently swap bytes.
if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) {
  throw new Error('@adalora/protocol: this platform is big-endian; the wire format is little-endian');
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(where: string, shape: readonly number[], length: number): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`${where}: shape must be a list of non-negative integers`);
  }
  if (elementCount(shape) !== length) {
    throw new RangeError(`${where}: shape [${shape.join(', ')}] holds ${elementCount(shape)} values but ${length} were given`);
  }
}

/** Bytes of a typed array, copied into a fresh buffer (so later writes to the source do not leak in). */
function bytesCopyOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/**
 * Index of the first NaN/±Inf element of a float tensor, or -1 (always -1 for int32). One pass
 * at any byteOffset, which also leaves the tensor's Σ x² known (see squaresOf: a finite sum of
 * squares means every value is finite); the index is looked for only when it is not. This runs
 * on every received gradient: it must cost no more than one read.
 */
export function firstNonFinite(t: WireTensor): number {
  const b = t.data;
  if (t.dtype === 'float64' || t.dtype === 'float32') {
    if (Number.isFinite(squaresOf(t))) return -1;
    const values = floatValuesOf(t); // rare: a refusal (or values whose squares overflow)
    return values.findIndex((x) => x - x !== 0);
  }
  if (t.dtype === 'float16') {
    // byte 1 = sign + exponent(5) + mantissa[9:8]; exponent all ones ⇔ (byte & 0x7c) == 0x7c
    let acc = 0;
    for (let i = 1; i < b.length; i += 2) acc |= ((b[i] & 0x7c) + 0x04) & 0x80;
    if (acc === 0) return -1;
    for (let i = 1; i < b.length; i += 2) if ((((b[i] & 0x7c) + 0x04) & 0x80) !== 0) return (i - 1) / 2;
  }
  return -1;
}

/**
 * A wire tensor from float32 values, as float32 bytes or converted to float16 (round to nearest
 * even). Copies once into a fresh buffer.
 * @throws TypeError/RangeError when `shape` does not fit `values` (programmer misuse)
 * @throws ProtocolError PROTO_ERR_NON_FINITE when a value is NaN/±Inf, or overflows float16
 *   (|x| ≥ 65520): such a tensor would be refused by the receiver, so it is refused here first.
 */
export function wireFromFloat32(shape: readonly number[], values: Float32Array, wire: 'float32' | 'float16' = 'float32', name = '<tensor>'): WireTensor {
  checkShape(`tensor '${name}'`, shape, values.length);
  let out: WireTensor;
  if (wire === 'float32') out = { dtype: 'float32', shape: [...shape], data: bytesCopyOf(values) };
  else if (wire === 'float16') {
    const h = float32ToFloat16Bits(values);
    out = { dtype: 'float16', shape: [...shape], data: new Uint8Array(h.buffer) };
  } else throw new TypeError(`tensor '${name}': wire dtype must be 'float32' or 'float16', got ${String(wire)}`);
  const bad = firstNonFinite(out);
  if (bad >= 0) {
    const v = values[bad];
    const why = Number.isFinite(v) ? `value ${v} overflows float16 (largest 65504)` : `value is ${v}`;
    throw protocolError('PROTO_ERR_NON_FINITE', `element ${bad}: ${why}`, { field: `tensor '${name}'` });
  }
  return out;
}

/**
 * A float32 wire tensor on `values`' own bytes, without the copy wireFromFloat32 makes: for
 * values the caller made for this message and leaves alone until it is encoded (the state the
 * coordinator sends every step: 8 MB for BERT-base). Checked like wireFromFloat32.
 * @throws ProtocolError PROTO_ERR_NON_FINITE when a value is NaN/±Inf
 */
export function wireViewOfFloat32(shape: readonly number[], values: Float32Array, name = '<tensor>'): WireTensor {
  checkShape(`tensor '${name}'`, shape, values.length);
  const out: WireTensor = { dtype: 'float32', shape: [...shape], data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  const bad = firstNonFinite(out);
  if (bad >= 0) throw protocolError('PROTO_ERR_NON_FINITE', `element ${bad}: value is ${values[bad]}`, { field: `tensor '${name}'` });
  return out;
}

/**
 * How a `float64` wire sends exact values: `narrowest` as float32 when every value of the tensor
 * is a float32 number (half the bytes, the same values: the common case of a share of one
 * micro-batch, whose float64 sum is its float32 gradient), else as float64; `float64` always.
 */
export type ExactWire = 'narrowest' | 'float64';

/**
 * A wire tensor from float64 values: exact on a `float64` wire (what lets a coordinator add
 * partial gradient sums in any grouping and get the same result; see ExactWire for the dtype),
 * or rounded to float32/float16.
 * @throws ProtocolError PROTO_ERR_NON_FINITE as wireFromFloat32
 */
export function wireFromFloat64(shape: readonly number[], values: Float64Array, wire: FloatWire = 'float64', name = '<tensor>', exact: ExactWire = 'narrowest'): WireTensor {
  if (wire !== 'float64' || (exact === 'narrowest' && allFloat32(values))) return wireFromFloat32(shape, Float32Array.from(values), wire === 'float64' ? 'float32' : wire, name);
  checkShape(`tensor '${name}'`, shape, values.length);
  const out: WireTensor = { dtype: 'float64', shape: [...shape], data: bytesCopyOf(values) };
  const bad = firstNonFinite(out);
  if (bad >= 0) throw protocolError('PROTO_ERR_NON_FINITE', `element ${bad}: value is ${values[bad]}`, { field: `tensor '${name}'` });
  return out;
}

/** True when float32 holds every value exactly (false for NaN, which then goes as float64 and is refused). */
function allFloat32(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (Math.fround(values[i]) !== values[i]) return false;
  return true;
}

/** A named wire tensor from float64 values; see `wireFromFloat64`. */
export function tensorFromFloat64(name: string, shape: readonly number[], values: Float64Array, wire: FloatWire = 'float64', exact: ExactWire = 'narrowest'): NamedTensor {
  return { name, ...wireFromFloat64(shape, values, wire, name, exact) };
}

/** A wire tensor from int32 values (copied once). */
export function wireFromInt32(shape: readonly number[], values: Int32Array, name = '<tensor>'): WireTensor {
  checkShape(`tensor '${name}'`, shape, values.length);
  return { dtype: 'int32', shape: [...shape], data: bytesCopyOf(values) };
}

/** A named wire tensor from float32 values; see `wireFromFloat32`. */
export function tensorFromFloat32(name: string, shape: readonly number[], values: Float32Array, wire: 'float32' | 'float16' = 'float32'): NamedTensor {
  return { name, ...wireFromFloat32(shape, values, wire, name) };
}

/** A named wire tensor from int32 values. */
export function tensorFromInt32(name: string, shape: readonly number[], values: Int32Array): NamedTensor {
  return { name, ...wireFromInt32(shape, values, name) };
}

function checkLength(t: WireTensor, what: string): number {
  const n = elementCount(t.shape);
  if (n * DTYPE_BYTES[t.dtype] !== t.data.byteLength) {
    throw new RangeError(`${what}: ${t.dtype} [${t.shape.join(', ')}] needs ${n * DTYPE_BYTES[t.dtype]} bytes, data has ${t.data.byteLength}`);
  }
  return n;
}

/**
 * Values of a float32 or float16 wire tensor as a fresh, aligned Float32Array [elementCount(shape)].
 * Exactly one pass over the data: a byte copy for float32, the conversion for float16.
 * @throws TypeError for an int32 tensor; RangeError when data does not match shape (unvalidated input)
 */
export function float32FromTensor(t: WireTensor): Float32Array {
  const n = checkLength(t, 'float32FromTensor');
  if (t.dtype === 'float32') {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(t.data); // one copy; never a view at t.data.byteOffset (may be odd)
    return out;
  }
  if (t.dtype === 'float16') {
    // an aligned view when we can, else one copy into aligned memory
    let bits: Uint16Array;
    if (t.data.byteOffset % 2 === 0) bits = new Uint16Array(t.data.buffer, t.data.byteOffset, n);
    else {
      bits = new Uint16Array(n);
      new Uint8Array(bits.buffer).set(t.data);
    }
    return float16BitsToFloat32(bits);
  }
  if (t.dtype === 'float64') return Float32Array.from(float64FromTensor(t));
  throw new TypeError(`float32FromTensor: dtype is ${t.dtype}, expected a float dtype`);
}

/**
 * Values of any float wire tensor as a fresh, aligned Float64Array (float32/float16 widen exactly).
 * @throws TypeError for an int32 tensor; RangeError when data does not match shape
 */
export function float64FromTensor(t: WireTensor): Float64Array {
  const n = checkLength(t, 'float64FromTensor');
  if (t.dtype === 'float64') {
    const out = new Float64Array(n);
    new Uint8Array(out.buffer).set(t.data);
    return out;
  }
  if (t.dtype === 'int32') throw new TypeError('float64FromTensor: dtype is int32, expected a float dtype');
  return Float64Array.from(float32FromTensor(t));
}

/**
 * Values of an int32 wire tensor as a fresh, aligned Int32Array [elementCount(shape)].
 * @throws TypeError for a float tensor; RangeError when data does not match shape
 */
export function int32FromTensor(t: WireTensor): Int32Array {
  const n = checkLength(t, 'int32FromTensor');
  if (t.dtype !== 'int32') throw new TypeError(`int32FromTensor: dtype is ${t.dtype}, expected int32`);
  const out = new Int32Array(n);
  new Uint8Array(out.buffer).set(t.data);
  return out;
}

/**
 * Values of a float wire tensor without a copy where the bytes allow it: a Float64Array or
 * Float32Array view on the received buffer when `data` sits at an aligned offset (valid as
 * long as that buffer is not reused: received frames never are), else one copy into aligned
 * memory; float16 is converted to float32. For reading only: writing would change the message.
 * @throws TypeError for an int32 tensor; RangeError when data does not match shape
 */
export function floatValuesOf(t: WireTensor): Float64Array | Float32Array {
  const n = checkLength(t, 'floatValuesOf');
  if (t.dtype === 'float64') return t.data.byteOffset % 8 === 0 ? new Float64Array(t.data.buffer, t.data.byteOffset, n) : float64FromTensor(t);
  if (t.dtype === 'float32') return t.data.byteOffset % 4 === 0 ? new Float32Array(t.data.buffer, t.data.byteOffset, n) : float32FromTensor(t);
  if (t.dtype === 'float16') return float32FromTensor(t);
  throw new TypeError('floatValuesOf: dtype is int32, expected a float dtype');
}
