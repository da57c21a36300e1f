import test from 'ava';
import { WasmArena } from './wasm-arena';
import { I32, LOAD, simdLoopModule, SimdInstance, STORE, V128 } from './wasm-simd';

test('regions are 16-byte aligned, do not overlap, and a released one is reused for a request it fits', (t) => {
  const arena = new WasmArena(1 << 16);
  const a = arena.allocate(100)!;
  const b = arena.allocate(1)!;
  const c = arena.allocate(0)!;
  t.deepEqual([a, b, c].map((x) => x % 16), [0, 0, 0]);
  t.true(b >= a + 100 && c >= b + 1, 'one after another');
  arena.release(a);
  t.is(arena.allocate(4000), arena.used - 4000, 'too large for the released region: a new one at the end');
  t.is(arena.allocate(90), a, 'the released region serves a request that fits it');
  t.throws(() => arena.release(a + 16), { message: /no region starts at/ });
  arena.release(b);
  t.throws(() => arena.release(b), { message: /no region starts at/ }, 'released twice');
});

test('a full arena says so instead of growing (views of it stay valid)', (t) => {
  const arena = new WasmArena(1 << 16);
  const view = arena.bytes;
  t.not(arena.allocate(60_000), undefined);
  t.is(arena.allocate(10_000), undefined);
  t.is(arena.bytes.byteLength, 1 << 16);
  t.is(view.byteLength, 1 << 16, 'not detached');
  t.throws(() => new WasmArena(0), { message: /size must be/ });
});

test('holding finds the arena a view lies in, and only that', (t) => {
  const arena = new WasmArena(1 << 16);
  const other = new WasmArena(1 << 16);
  t.is(WasmArena.holding(arena.bytes.subarray(30, 40)), arena);
  t.is(WasmArena.holding(new Float32Array(other.memory.buffer, 64, 2)), other);
  t.is(WasmArena.holding(new Uint8Array(8)), undefined);
});

test('kernels on one arena read and write the same memory, and may not grow it', (t) => {
  const arena = new WasmArena(1 << 16);
  // out[i] = in[i] over whole vectors: a kernel that moves bytes written by JS into a region another reads
  const copy = simdLoopModule({ params: [I32, I32, I32], bytesParam: 2, splat: [], locals: [I32, V128], step: (at) => [...at(0), ...at(1), ...LOAD, ...STORE] });
  const first = new SimdInstance<(out: number, from: number, bytes: number) => void>(copy, arena.memory);
  const second = new SimdInstance<(out: number, from: number, bytes: number) => void>(copy, arena.memory);
  const [a, b, c] = [arena.allocate(32)!, arena.allocate(32)!, arena.allocate(32)!];
  arena.bytes.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], a);
  first.run(b, a, 16);
  second.run(c, b, 16);
  t.deepEqual([...arena.bytes.subarray(c, c + 16)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  t.throws(() => first.reserve(1 << 20), { message: /shared/ });
});
