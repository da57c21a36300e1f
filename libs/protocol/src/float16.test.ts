import test from 'ava';
import { allFiniteFloat16Bits, float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits, toFloat16Bits } from './float16';

/** Value of a half bit pattern from the IEEE definition (independent of the bit-twiddling decoder). */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Reference rounding: nearest finite half by search over all positive halves, ties to even, overflow past 65520 to Inf. */
const POSITIVE = Array.from({ length: 0x7c00 }, (_, h) => halfValue(h)); // 0 .. 65504, increasing
function referenceHalf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = POSITIVE.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (POSITIVE[mid] <= a) lo = mid;
    else hi = mid;
  }
  if (a >= POSITIVE[hi]) return sign | hi;
  const dLo = a - POSITIVE[lo];
  const dHi = POSITIVE[hi] - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

test('known values encode to the IEEE binary16 bit patterns', (t) => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff], // largest finite
    [65519.99, 0x7bff], // below the halfway point to 65536
    [65520, 0x7c00], // halfway: ties to even = Inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [1023.5 * 2 ** -24, 0x0400], // tie between largest subnormal (odd) and smallest normal (even)
    [2 ** -25, 0x0000], // tie between 0 and 2^-24: to even (0)
    [Math.fround(2 ** -25 * 1.0000001), 0x0001], // just above the tie
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps: to even (2)
    [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 (even) and 0x3c01
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02 (even)
    [-1e-10, 0x8000], // underflow keeps the sign
  ];
  for (const [x, h] of cases) t.is(toFloat16Bits(x), h, `toFloat16Bits(${x})`);
  const nan = toFloat16Bits(NaN);
  t.is(nan & 0x7c00, 0x7c00, 'NaN has an all-ones exponent');
  t.not(nan & 0x3ff, 0, 'NaN keeps a non-zero mantissa');
});

test('every half decodes to its IEEE value and re-encodes to itself', (t) => {
  const all = new Uint16Array(0x10000).map((_, i) => i);
  const f = float16BitsToFloat32(all);
  const back = float32ToFloat16Bits(f);
  let bad = 0;
  for (let h = 0; h < 0x10000; h++) {
    const v = halfValue(h);
    if (Number.isNaN(v)) {
      if (!Number.isNaN(f[h]) || (back[h] & 0x7c00) !== 0x7c00 || (back[h] & 0x3ff) === 0) bad++;
      continue;
    }
    if (!Object.is(f[h], v) || back[h] !== h) bad++;
  }
  t.is(bad, 0);
  t.is(fromFloat16Bits(0x8001), -(2 ** -24));
});

test('float32 → float16 matches a reference rounding on random and boundary values', (t) => {
  const bits = new Uint32Array(200_000);
  let x = 12345;
  for (let i = 0; i < bits.length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    // exponents spread over the half range and a little beyond (2^-27 .. 2^17)
    const exp = 100 + (x % 44);
    x = (x * 1664525 + 1013904223) >>> 0;
    bits[i] = ((x & 0x80000000) | (exp << 23) | (x & 0x7fffff)) >>> 0;
  }
  // exact ties and their neighbours at every half exponent
  const extra: number[] = [];
  for (let e = 102; e <= 143; e++) {
    const tie = (e << 23) | 0x1000;
    extra.push(tie, tie - 1, tie + 1, (e << 23) | 0x3000, ((e << 23) | 0x3000) + 1);
  }
  const values = new Float32Array(bits.length + extra.length);
  new Uint32Array(values.buffer).set(bits);
  new Uint32Array(values.buffer, bits.length * 4).set(extra);
  const got = float32ToFloat16Bits(values);
  let bad = 0;
  let firstBad = '';
  for (let i = 0; i < values.length; i++) {
    const want = referenceHalf(values[i]);
    if (got[i] !== want) {
      if (bad++ === 0) firstBad = `${values[i]}: got 0x${got[i].toString(16)}, want 0x${want.toString(16)}`;
    }
  }
  t.is(bad, 0, firstBad);
});

test('allFiniteFloat16Bits spots Inf and NaN only', (t) => {
  t.true(allFiniteFloat16Bits(Uint16Array.of(0, 0x7bff, 0xfbff, 0x0001, 0x8000)));
  t.false(allFiniteFloat16Bits(Uint16Array.of(0, 0x7c00)));
  t.false(allFiniteFloat16Bits(Uint16Array.of(0xfe00, 0)));
});

test('array converters refuse mismatched output lengths', (t) => {
  t.throws(() => float32ToFloat16Bits(new Float32Array(3), new Uint16Array(2)), { instanceOf: RangeError });
  t.throws(() => float16BitsToFloat32(new Uint16Array(3), new Float32Array(4)), { instanceOf: RangeError });
});
