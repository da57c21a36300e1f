import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rawSafetensors, type RawEntry } from '@adalora/test-support';
import { encodeSafetensors, parseSafetensors, readSafetensors, writeSafetensors, type SafeTensor } from './safetensors';

const f32 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
const entry = (name: string, values: number[], shape = [values.length]): RawEntry => ({ name, dtype: 'F32', shape, bytes: f32(values) });

// Patches the 8-byte header length of a file.
function withHeaderLength(bytes: Uint8Array, len: bigint): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(0, len, true);
  return out;
}

test('encode then parse returns the same tensors, sorted and 8-byte aligned', (t) => {
  const tensors = new Map<string, SafeTensor>([
    ['b', { shape: [2, 2], data: new Float32Array([1, -2, 3.5, 4]) }],
    ['a.é', { shape: [3], data: new Float32Array([0.25, 0, -1e-8]) }],
    ['scalar', { shape: [], data: new Float32Array([7]) }],
  ]);
  const bytes = encodeSafetensors(tensors);
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  t.is((8 + headerLen) % 8, 0);
  const back = parseSafetensors(bytes);
  t.deepEqual([...back.keys()].sort(), ['a.é', 'b', 'scalar']);
  for (const [name, v] of tensors) {
    t.deepEqual(back.get(name)!.shape, v.shape);
    t.deepEqual([...back.get(name)!.data], [...v.data]);
  }
});

test('F16, BF16 and F64 widen or narrow to float32 exactly where representable', (t) => {
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]).buffer); // 1, -2, 0.333251953125, 2^-24
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
  const f64 = new Uint8Array(new Float64Array([0.1, -5]).buffer);
  const out = parseSafetensors(
    rawSafetensors([
      { name: 'h', dtype: 'F16', shape: [4], bytes: f16 },
      { name: 'b', dtype: 'BF16', shape: [2], bytes: bf16 },
      { name: 'd', dtype: 'F64', shape: [2], bytes: f64 },
    ]),
  );
  t.deepEqual([...out.get('h')!.data], [1, -2, 0.333251953125, 2 ** -24]);
  t.deepEqual([...out.get('b')!.data], [1, -3]);
  t.deepEqual([...out.get('d')!.data], [Math.fround(0.1), -5]);
});

test('a missing file is an error that names the path', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'st-'));
  try {
    const file = path.join(dir, 'nope.safetensors');
    t.throws(() => readSafetensors(file), { message: new RegExp(`safetensors ${file.replace(/[.\\/]/g, '\\$&')}: cannot read file \\(ENOENT\\)`) });
    writeSafetensors(path.join(dir, 'ok.safetensors'), new Map([['x', { shape: [1], data: new Float32Array([2]) }]]));
    t.deepEqual([...readSafetensors(path.join(dir, 'ok.safetensors')).get('x')!.data], [2]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad header lengths are refused: too short a file, past the end, zero', (t) => {
  const good = rawSafetensors([entry('x', [1, 2])]);
  t.throws(() => parseSafetensors(good.subarray(0, 5), 'f'), { message: /safetensors f: file is 5 bytes, too short/ });
  t.throws(() => parseSafetensors(withHeaderLength(good, BigInt(good.length)), 'f'), { message: /safetensors f: header length \d+ is invalid/ });
  t.throws(() => parseSafetensors(withHeaderLength(good, 2n ** 63n), 'f'), { message: /header length 9223372036854775808 is invalid/ });
  t.throws(() => parseSafetensors(withHeaderLength(good, 0n), 'f'), { message: /header length 0 is invalid/ });
});

test('a header that is not a JSON object is refused', (t) => {
  const bad = (json: string): Uint8Array => {
    const b = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + b.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(b.length), true);
    out.set(b, 8);
    return out;
  };
  t.throws(() => parseSafetensors(bad('{"x": '), 'f'), { message: /safetensors f: header is not valid JSON/ });
  t.throws(() => parseSafetensors(bad('[1, 2]'), 'f'), { message: /header is not a JSON object/ });
  t.throws(() => parseSafetensors(bad('{"x": 3}'), 'f'), { message: /entry 'x' is not an object/ });
});

test('offsets past the end of the data are refused', (t) => {
  const bytes = rawSafetensors([entry('x', [1, 2])], { x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } });
  t.throws(() => parseSafetensors(bytes, 'f'), { message: /tensor 'x' offsets \[0, 16\] run past the data \(8 bytes\)/ });
  const truncated = rawSafetensors([entry('a', [1]), entry('b', [1, 2, 3])]);
  t.throws(() => parseSafetensors(truncated.subarray(0, truncated.length - 4), 'f'), { message: /tensor 'b' offsets \[4, 16\] run past the data \(12 bytes\)/ });
  const reversed = rawSafetensors([entry('x', [1, 2])], { x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } });
  t.throws(() => parseSafetensors(reversed, 'f'), { message: /tensor 'x' offsets \[8, 0\]/ });
});

test('a non-float dtype is refused unless skipped; an unknown dtype always', (t) => {
  const ids = { name: 'position_ids', dtype: 'I64', shape: [1, 2], bytes: new Uint8Array(new BigInt64Array([0n, 1n]).buffer) };
  const bytes = rawSafetensors([entry('w', [1, 2]), ids]);
  t.throws(() => parseSafetensors(bytes, 'f'), { message: /tensor 'position_ids' has dtype I64; supported: F64, F32, F16, BF16/ });
  t.deepEqual([...parseSafetensors(bytes, 'f', { nonFloat: 'skip' }).keys()], ['w']);
  const unknown = rawSafetensors([{ ...entry('w', [1]), dtype: 'Q4' }]);
  t.throws(() => parseSafetensors(unknown, 'f', { nonFloat: 'skip' }), { message: /tensor 'w' has unknown dtype "Q4"/ });
});

test('a byte count that does not match dtype × shape is refused', (t) => {
  const bytes = rawSafetensors([entry('w', [1, 2, 3])], { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } });
  t.throws(() => parseSafetensors(bytes, 'f'), { message: /tensor 'w' holds 12 bytes but F32 \[2,2\] needs 16/ });
  const shape = rawSafetensors([entry('w', [1])], { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } });
  t.throws(() => parseSafetensors(shape, 'f'), { message: /tensor 'w' has shape \[-1\], expected a list of non-negative integers/ });
});

test('entries must tile the data: holes, overlaps and trailing bytes are refused', (t) => {
  const overlap = rawSafetensors([entry('a', [1, 2]), entry('b', [3, 4])], { b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } });
  t.throws(() => parseSafetensors(overlap.subarray(0, overlap.length - 4), 'f'), { message: /tensor 'b' starts at byte 4 of the data, expected 8/ });
  const good = rawSafetensors([entry('a', [1, 2])]);
  const trailing = new Uint8Array(good.length + 4);
  trailing.set(good);
  t.throws(() => parseSafetensors(trailing, 'f'), { message: /tensors cover 8 bytes of data but the file holds 12/ });
});
