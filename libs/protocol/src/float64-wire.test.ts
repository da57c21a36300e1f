import test from 'ava';
import { workerSamples } from '@adalora/test-support';
import { decodeMessage, encodeMessage } from './codec';
import { parseWorkerMessage } from './parse-worker-message';
import { isProtocolError } from './protocol-error';
import { firstNonFinite, float32FromTensor, float64FromTensor, tensorFromFloat64, wireFromFloat64, type WireTensor } from './wire-tensor';

test('float64 values round-trip bit for bit through a gradients message', (t) => {
  const values = Float64Array.of(0.1, -1e-300, 3.5e200, Number.MIN_VALUE, 1 / 3, -0);
  const msg = { ...workerSamples().gradients, tensors: [tensorFromFloat64('x.lora_E', [6, 1], values)] };
  const back = parseWorkerMessage(decodeMessage(encodeMessage(msg)));
  if (back.type !== 'gradients') return t.fail();
  t.is(back.tensors[0].dtype, 'float64');
  t.deepEqual(Array.from(float64FromTensor(back.tensors[0])), Array.from(values));
});

test('float64 values can travel rounded to float32 or float16', (t) => {
  const values = Float64Array.of(0.1, 2, -3.25);
  t.deepEqual(Array.from(float32FromTensor(wireFromFloat64([3], values, 'float32'))), Array.from(Float32Array.from(values)));
  t.is(wireFromFloat64([3], values, 'float16').dtype, 'float16');
  t.deepEqual(Array.from(float64FromTensor(wireFromFloat64([3], values, 'float32'))), Array.from(Float32Array.from(values)));
});

test('a non-finite float64 is refused by the sender and by the receiver', (t) => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const err = t.throws(() => wireFromFloat64([2], Float64Array.of(1, bad)));
    t.true(isProtocolError(err, 'PROTO_ERR_NON_FINITE'));
    const raw: WireTensor = { dtype: 'float64', shape: [2], data: new Uint8Array(Float64Array.of(1, bad).buffer) };
    t.is(firstNonFinite(raw), 1);
    const msg = { ...workerSamples().gradients, tensors: [{ name: 'x.lora_E', ...raw }] };
    const refused = t.throws(() => parseWorkerMessage(decodeMessage(encodeMessage(msg))));
    t.true(isProtocolError(refused, 'PROTO_ERR_NON_FINITE'), String(refused?.message));
  }
  // the largest finite double is finite
  t.is(firstNonFinite({ dtype: 'float64', shape: [1], data: new Uint8Array(Float64Array.of(Number.MAX_VALUE).buffer) }), -1);
});

test('float64 data at an odd byte offset decodes through an aligned copy', (t) => {
  const values = Float64Array.of(1.5, -2.25, 1e-10);
  const bytes = new Uint8Array(1 + values.byteLength);
  bytes.set(new Uint8Array(values.buffer), 1);
  const decoded = float64FromTensor({ dtype: 'float64', shape: [3], data: bytes.subarray(1) });
  t.deepEqual(Array.from(decoded), Array.from(values));
});

test('a float64 wire sends values float32 holds exactly as float32 (half the bytes, the same values), unless told float64', (t) => {
  const exact = Float64Array.of(0.5, -3.25, 2 ** -30, -0, 16777216);
  const narrowed = wireFromFloat64([5], exact);
  t.is(narrowed.dtype, 'float32');
  t.deepEqual(Array.from(float64FromTensor(narrowed)), Array.from(exact));
  t.true(Object.is(float64FromTensor(narrowed)[3], -0), 'the sign of zero survives');
  t.is(wireFromFloat64([5], exact, 'float64', 'x', 'float64').dtype, 'float64');
  const inexact = Float64Array.of(0.5, 16777217); // 2²⁴ + 1 needs 25 bits
  t.is(wireFromFloat64([2], inexact).dtype, 'float64');
  t.deepEqual(Array.from(float64FromTensor(wireFromFloat64([2], inexact))), Array.from(inexact));
  t.is(wireFromFloat64([1], Float64Array.of(1e39)).dtype, 'float64', 'beyond float32 range');
  const err = t.throws(() => wireFromFloat64([2], Float64Array.of(1, Infinity)));
  t.true(isProtocolError(err, 'PROTO_ERR_NON_FINITE'), 'Infinity is refused whichever dtype it would go as');
});
