import test from 'ava';
import { ramp } from '@adalora/test-support';
import { WasmArena } from '@adalora/wasm-simd';
import { addInto, squaresOf } from './wire-arithmetic';
import { floatValuesOf, wireFromFloat32, wireFromFloat64, wireFromInt32, type WireTensor } from './wire-tensor';

/** `t` with its data copied into `arena` at `offset` past a 16-byte boundary (as a message received into it). */
function inArena(t: WireTensor, arena: WasmArena, offset: number): WireTensor {
  const at = arena.allocate(t.data.byteLength + 32)! + offset;
  arena.bytes.set(t.data, at);
  return { ...t, data: arena.bytes.subarray(at, at + t.data.byteLength) };
}

/** `t` with its data moved to byteOffset `offset` of a larger buffer (as msgpackr leaves it). */
function atOffset(t: WireTensor, offset: number): WireTensor {
  const buf = new Uint8Array(t.data.byteLength + offset + 5);
  buf.set(t.data, offset);
  return { ...t, data: buf.subarray(offset, offset + t.data.byteLength) };
}

// 20,011 values: more than two chunks of the aligned scratch, and a last partial one
const N = 20_011;
const values64 = Float64Array.from(ramp(N), (x, i) => x * (1 + i / 3) + 1e-9 * i);
const cases: [string, WireTensor][] = [
  ['float64', wireFromFloat64([N], values64)],
  ['float32', wireFromFloat32([N], ramp(N))],
  ['float16', wireFromFloat32([N], ramp(N), 'float16')],
];

test('squaresOf and addInto read a tensor at every byteOffset exactly as its copied values (floatValuesOf) do', (t) => {
  for (const [dtype, wire] of cases) {
    const values = floatValuesOf(wire); // the reference: values copied into aligned memory
    let squares = 0;
    for (let i = 0; i < values.length; i++) squares += values[i] * values[i];
    const base = Float64Array.from(ramp(N), (x) => x * 7.25);
    const expected = base.map((s, i) => s + values[i]);
    const aligned = squaresOf(atOffset(wire, 0));
    t.true(Math.abs(aligned - squares) <= 1e-12 * squares, `${dtype}: ${aligned} is Σx² (${squares}) up to the order of the additions`);
    for (let offset = 0; offset < 9; offset++) {
      const moved = atOffset(wire, offset);
      t.is(squaresOf(moved), aligned, `${dtype} squares at offset ${offset}: the same bits whatever the alignment`);
      t.is(squaresOf(moved), aligned, `${dtype} squares again (remembered) at offset ${offset}`);
      const sum = base.slice();
      addInto(sum, moved);
      t.deepEqual(sum, expected, `${dtype} sum at offset ${offset}`);
    }
  }
});

/** Σ x² as the SIMD pass promises it: value i into running sum i mod 4, the last n mod 4 into the first, then (s0 + s1) + (s2 + s3). */
function fourLaneSquares(values: ArrayLike<number>): number {
  const lanes = [0, 0, 0, 0];
  const whole = values.length - (values.length % 4);
  for (let i = 0; i < whole; i++) lanes[i % 4] += values[i] * values[i];
  for (let i = whole; i < values.length; i++) lanes[0] += values[i] * values[i];
  return lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
}

test('squaresOf gives the bits of the four-lane scalar sum, for sizes around the 64 KB staging chunks', (t) => {
  // 16,384 float32 or 8,192 float64 values fill a chunk; values of mixed magnitudes, so that the order of additions shows
  for (const n of [0, 1, 3, 4, 5, 8_191, 8_192, 8_197, 16_384, 16_389, 40_003]) {
    const v64 = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 10 ** ((i % 7) - 3) + i * 1e-7);
    const v32 = Float32Array.from(v64);
    t.is(squaresOf(atOffset(wireFromFloat64([n], v64, 'float64', 'x', 'float64'), 3)), fourLaneSquares(v64), `float64, ${n} values`);
    t.is(squaresOf(atOffset(wireFromFloat32([n], v32), 1)), fourLaneSquares(v32), `float32, ${n} values`);
  }
});

test('squaresOf reads a tensor that lies in a WasmArena in place, with the same bits as from a copy', (t) => {
  const arena = new WasmArena(4 << 20);
  for (const n of [0, 3, 5, 16_389, 40_003]) {
    const v64 = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.61) * 10 ** ((i % 5) - 2) + i * 1e-7);
    const v32 = Float32Array.from(v64);
    for (const offset of [0, 3, 8]) {
      t.is(squaresOf(inArena(wireFromFloat64([n], v64, 'float64', 'x', 'float64'), arena, offset)), fourLaneSquares(v64), `float64, ${n} values, offset ${offset}`);
      t.is(squaresOf(inArena(wireFromFloat32([n], v32), arena, offset)), fourLaneSquares(v32), `float32, ${n} values, offset ${offset}`);
    }
  }
  const bad = inArena(wireFromFloat32([6], Float32Array.of(1, 2, 3, 4, 5, 6)), arena, 5);
  bad.data.set(new Uint8Array(Float32Array.of(Infinity).buffer), 8);
  t.is(squaresOf(bad), Infinity, 'a value that is not finite shows in place too');
});

test('the sum of squares is not finite when a value is not, or a square overflows', (t) => {
  const bytes = new Uint8Array(wireFromFloat64([4], Float64Array.of(1, 2, 3, 4), 'float64', 'x', 'float64').data);
  bytes.set(new Uint8Array(Float64Array.of(NaN).buffer), 16);
  t.true(Number.isNaN(squaresOf(atOffset({ dtype: 'float64', shape: [4], data: bytes }, 3))));
  t.is(squaresOf(wireFromFloat64([2], Float64Array.of(1e200, 1), 'float64', 'x', 'float64')), Infinity);
});

test('addInto and squaresOf refuse int32; addInto a size that does not match', (t) => {
  t.throws(() => addInto(new Float64Array(2), wireFromInt32([2], Int32Array.of(1, 2))), { instanceOf: TypeError });
  t.throws(() => squaresOf(wireFromInt32([2], Int32Array.of(1, 2))), { instanceOf: TypeError });
  t.throws(() => addInto(new Float64Array(3), wireFromFloat64([2], Float64Array.of(1, 2), 'float64', 'x', 'float64')), { instanceOf: RangeError, message: /16 bytes for a sum of 3/ });
});
