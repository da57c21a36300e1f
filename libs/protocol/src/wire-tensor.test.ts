import test from 'ava';
import { ramp } from '@adalora/test-support';
import { decodeMessage, encodeMessage } from './codec';
import { isProtocolError } from './protocol-error';
import {
  firstNonFinite,
  float32FromTensor,
  floatValuesOf,
  wireFromFloat64,
  int32FromTensor,
  tensorFromFloat32,
  tensorFromInt32,
  wireFromFloat32,
  wireViewOfFloat32,
  type WireTensor,
} from './wire-tensor';

/** `t` with its data moved to byteOffset `offset` of a larger buffer. */
function atOffset(t: WireTensor, offset: number): WireTensor {
  const buf = new Uint8Array(t.data.byteLength + offset + 3);
  buf.set(t.data, offset);
  return { ...t, data: buf.subarray(offset, offset + t.data.byteLength) };
}

test('float32 wire round-trips exactly and copies the input', (t) => {
  const v = ramp(1000);
  const w = tensorFromFloat32('x', [10, 100], v);
  t.is(w.dtype, 'float32');
  t.deepEqual(w.shape, [10, 100]);
  t.is(w.data.byteLength, 4000);
  v[0] = 42; // a later write to the source must not leak into the tensor
  const back = float32FromTensor(w);
  t.not(back[0], 42);
  v[0] = back[0];
  t.deepEqual(back, v);
});

test('float16 wire round-trips within half precision', (t) => {
  const v = ramp(1000);
  const w = tensorFromFloat32('x', [1000], v, 'float16');
  t.is(w.data.byteLength, 2000);
  const back = float32FromTensor(w);
  for (let i = 0; i < v.length; i++) t.true(Math.abs(back[i] - v[i]) <= 2 ** -11 * Math.abs(v[i]) + 2 ** -25, `element ${i}`);
});

test('tensors at odd byte offsets decode to fresh aligned arrays', (t) => {
  const v = ramp(33);
  for (const wire of ['float32', 'float16'] as const) {
    const w = tensorFromFloat32('x', [33], v, wire);
    const expected = float32FromTensor(w);
    for (const offset of [1, 2, 3, 5]) {
      const moved = atOffset(w, offset);
      const got = float32FromTensor(moved);
      t.is(got.byteOffset, 0);
      t.deepEqual(got, expected, `${wire} at offset ${offset}`);
      t.is(firstNonFinite(moved), -1);
    }
  }
  const ints = tensorFromInt32('ids', [2, 3], Int32Array.of(1, -2, 3, 2 ** 31 - 1, -(2 ** 31), 0));
  t.deepEqual(int32FromTensor(atOffset(ints, 3)), Int32Array.of(1, -2, 3, 2 ** 31 - 1, -(2 ** 31), 0));
});

test('a tensor decoded from MessagePack at an odd offset reads correctly', (t) => {
  const v = ramp(64);
  // name lengths shift the bin payload; at least one of them puts it at an odd offset
  let sawOdd = false;
  for (const name of ['a', 'ab', 'abc', 'abcd']) {
    const bytes = encodeMessage(tensorFromFloat32(name, [64], v));
    const copy = new Uint8Array(bytes); // own buffer, offset 0: the bin's offset is its offset in the frame
    const u = decodeMessage(copy) as WireTensor;
    t.true(u.data instanceof Uint8Array);
    if (u.data.byteOffset % 4 !== 0) sawOdd = true;
    t.deepEqual(float32FromTensor(u), v);
  }
  t.true(sawOdd, 'no case exercised a misaligned payload');
});

test('firstNonFinite finds NaN and Inf at any position and offset', (t) => {
  for (const wire of ['float32', 'float16'] as const) {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 5, 16]) {
        const w = tensorFromFloat32('x', [17], ramp(17), wire);
        // plant the bad value in the encoded bytes (the sender refuses to encode it)
        const planted = tensorFromFloat32('y', [1], Float32Array.of(1), wire);
        const bytes = new Uint8Array(w.data);
        const width = wire === 'float32' ? 4 : 2;
        const f = new Float32Array([bad]);
        const badBytes = wire === 'float32' ? new Uint8Array(f.buffer) : Number.isNaN(bad) ? Uint8Array.of(0x00, 0x7e) : bad > 0 ? Uint8Array.of(0x00, 0x7c) : Uint8Array.of(0x00, 0xfc);
        t.is(planted.data.byteLength, width);
        bytes.set(badBytes, at * width);
        t.is(firstNonFinite(atOffset({ ...w, data: bytes }, 1)), at, `${wire} ${bad} at ${at}`);
      }
    }
  }
  t.is(firstNonFinite(tensorFromInt32('i', [2], Int32Array.of(-1, 0x7f800000))), -1, 'int32 is never non-finite');
});

test('firstNonFinite: float64 and float32 at every byteOffset (aligned view or scratch chunks), NaN and ±Inf anywhere', (t) => {
  const n = 20_011; // over two chunks of the aligned scratch
  const last = n - 1;
  for (const [dtype, width] of [['float64', 8], ['float32', 4]] as const) {
    for (let offset = 0; offset < width; offset++) {
      const clean = dtype === 'float64' ? wireFromFloat64([n], Float64Array.from(ramp(n), (x) => x * 1e300)) : wireFromFloat32([n], ramp(n));
      t.is(firstNonFinite(atOffset(clean, offset)), -1, `${dtype} clean at offset ${offset}`);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, 1, 8191, 8192, 16400, last]) {
          const bytes = new Uint8Array(clean.data);
          const planted = dtype === 'float64' ? new Uint8Array(Float64Array.of(bad).buffer) : new Uint8Array(Float32Array.of(bad).buffer);
          bytes.set(planted, at * width);
          // a second bad value later: the first one is named
          if (at < last) bytes.set(planted, last * width);
          t.is(firstNonFinite(atOffset({ ...clean, data: bytes }, offset)), at, `${dtype} ${bad} at ${at}, offset ${offset}`);
        }
      }
    }
  }
});

test('wireViewOfFloat32 views the values without a copy, reads back exactly, and refuses NaN', (t) => {
  const v = ramp(10);
  const w = wireViewOfFloat32([2, 5], v);
  t.is(w.data.buffer, v.buffer, 'no copy');
  t.deepEqual(float32FromTensor(w), v);
  t.throws(() => wireViewOfFloat32([3], Float32Array.of(1, NaN, 2), 'x'), { message: /element 1: value is NaN/ });
  t.throws(() => wireViewOfFloat32([4], Float32Array.of(1, 2)), { instanceOf: RangeError });
});

test('the sender refuses NaN, Inf and float16 overflow with PROTO_ERR_NON_FINITE', (t) => {
  for (const [v, wire] of [[NaN, 'float32'], [-Infinity, 'float16'], [70000, 'float16'], [-65520, 'float16']] as const) {
    const e = t.throws(() => tensorFromFloat32('g', [2], Float32Array.of(0, v), wire));
    t.true(isProtocolError(e, 'PROTO_ERR_NON_FINITE'), `${v} as ${wire}`);
    t.regex(e!.message, /element 1/);
  }
  t.notThrows(() => wireFromFloat32([1], Float32Array.of(65519), 'float16'));
});

test('shape misuse is a programmer error', (t) => {
  t.throws(() => tensorFromFloat32('x', [2, 2], new Float32Array(3)), { instanceOf: RangeError });
  t.throws(() => tensorFromFloat32('x', [-1], new Float32Array(0)), { instanceOf: TypeError });
  t.throws(() => float32FromTensor({ dtype: 'float32', shape: [3], data: new Uint8Array(8) }), { instanceOf: RangeError });
  t.throws(() => float32FromTensor(tensorFromInt32('i', [1], Int32Array.of(1))), { instanceOf: TypeError });
  t.throws(() => int32FromTensor(tensorFromFloat32('f', [1], Float32Array.of(1))), { instanceOf: TypeError });
});

test('scalars and empty tensors are fine', (t) => {
  t.deepEqual(float32FromTensor(tensorFromFloat32('s', [], Float32Array.of(2.5))), Float32Array.of(2.5));
  t.deepEqual(float32FromTensor(tensorFromFloat32('e', [0, 4], new Float32Array(0), 'float16')), new Float32Array(0));
});

test('floatValuesOf: a view on the received bytes when aligned, else one copy; the same values either way', (t) => {
  const values = Float64Array.of(1.5, -2.25, 3e-300);
  const wire = wireFromFloat64([3], values);
  for (const offset of [0, 8, 3]) {
    const frame = new Uint8Array(offset + wire.data.byteLength);
    frame.set(wire.data, offset);
    const got = floatValuesOf({ ...wire, data: frame.subarray(offset) });
    t.true(got instanceof Float64Array);
    t.deepEqual([...got], [...values], `offset ${offset}`);
    t.is(got.buffer === frame.buffer, offset % 8 === 0, `offset ${offset}: a view only when aligned`);
  }
  const f32 = wireFromFloat32([2], Float32Array.of(0.5, -4));
  t.deepEqual([...floatValuesOf(f32)], [0.5, -4]);
  t.deepEqual([...floatValuesOf(wireFromFloat32([2], Float32Array.of(0.5, -4), 'float16'))], [0.5, -4]);
  t.throws(() => floatValuesOf({ dtype: 'int32', shape: [1], data: new Uint8Array(4) }), { message: /int32/ });
});
