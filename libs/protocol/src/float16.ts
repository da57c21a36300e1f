/**
 * IEEE 754 binary16 ⇄ binary32 by bit manipulation (no lookup tables): round to nearest even,
 * subnormals, ±0, ±Inf and NaN handled exactly. Works on whole typed arrays so that the loop
 * stays monomorphic; the scalar forms exist for tests and one-off values.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** binary16 bits of a binary32 bit pattern `x` (as uint32), rounded to nearest even. */
function halfBitsOf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const a = x & 0x7fffffff; // |value| bits
  if (a >= 0x7f800000) {
    // Inf stays Inf; NaN stays a (quiet) NaN keeping the top payload bits
    return a === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((a >>> 13) & 0x3ff);
  }
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 = halfway past 65504: rounds (to even) to Inf
  if (a >= 0x38800000) {
    // normal half: re-bias the exponent (127 → 15), keep 10 of the 23 mantissa bits
    let h = (a - 0x38000000) >>> 13;
    const rest = a & 0x1fff; // the 13 dropped bits; 0x1000 is exactly half an ulp
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0)) h++; // a carry into the exponent is right
    return sign | h;
  }
  if (a < 0x33000000) return sign; // below 2^-25 (half the smallest subnormal): ±0
  // subnormal half: value / 2^-24 = m · 2^(e − 126) with m the 24-bit significand
  const e = a >>> 23;
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14..24
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) !== 0)) h++; // may carry into the smallest normal: right too
  return sign | h;
}

/** binary16 bits of `value` (round to nearest even). */
export function toFloat16Bits(value: number): number {
  F32[0] = value;
  return halfBitsOf(U32[0]);
}

/** The number a binary16 bit pattern stands for. */
export function fromFloat16Bits(h: number): number {
  const out = new Float32Array(1);
  float16BitsToFloat32(Uint16Array.of(h), out);
  return out[0];
}

/**
 * Converts float32 values to binary16 bit patterns.
 * @param src values [n]
 * @param dst output [n] (a new array when omitted)
 */
export function float32ToFloat16Bits(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (dst.length !== src.length) throw new RangeError(`float32ToFloat16Bits: dst has ${dst.length} elements, src ${src.length}`);
  // A Float32Array is always 4-byte aligned, so its bits can be read through a Uint32Array view.
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = halfBitsOf(bits[i]);
  return dst;
}

/**
 * Converts binary16 bit patterns to float32 values (exact: every half is a float32).
 * @param src bits [n]
 * @param dst output [n] (a new array when omitted)
 */
export function float16BitsToFloat32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  if (dst.length !== src.length) throw new RangeError(`float16BitsToFloat32: dst has ${dst.length} elements, src ${src.length}`);
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const sign = (h & 0x8000) << 16;
    const exp = h & 0x7c00;
    const man = h & 0x03ff;
    if (exp === 0x7c00) {
      out[i] = (sign | 0x7f800000 | (man << 13)) >>> 0; // Inf / NaN (payload kept)
    } else if (exp !== 0) {
      out[i] = (sign | (((exp >>> 10) + 112) << 23) | (man << 13)) >>> 0; // normal: re-bias 15 → 127
    } else if (man === 0) {
      out[i] = sign >>> 0; // ±0
    } else {
      // subnormal: man · 2^-24, exact in float32
      dst[i] = sign !== 0 ? -man * 5.9604644775390625e-8 : man * 5.9604644775390625e-8;
    }
  }
  return dst;
}

/** True when every binary16 value is finite (exponent field not all ones). */
export function allFiniteFloat16Bits(src: Uint16Array): boolean {
  let acc = 0;
  for (let i = 0; i < src.length; i++) acc |= ((src[i] & 0x7c00) + 0x0400) & 0x8000; // set only when exp == 0x7c00
  return acc === 0;
}
