/**
 * What the SIMD kernels (adalora-core's AdamWKernel, EmaKernel, MeanKernel and SumKernel, the
 * protocol's squares pass) share: an assembler for one-function WebAssembly modules looping over
 * 128-bit vectors, each importing its memory: one of its own that grows on demand, or a WasmArena's
 * that several kernels and the data they read share. The modules are assembled here from their
 * bytes: no toolchain, no file to load. WebAssembly's f32x4 add, sub, mul, div, sqrt and abs (and
 * f64x2 add, mul, div, and the conversions between float32 and float64) are IEEE operations per
 * lane with round-to-nearest, subnormals included (what tfjs's wasm kernels run too), so a kernel
 * gives the bits of the same operations done one by one. Why kernels and not JS loops with
 * Math.fround: those are scalar, ≈ 20 ns per value on this 2-core machine, no faster than tf's ops.
 */

// the part of the WebAssembly API used here (its types are in lib.dom, which this workspace leaves out)
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: { env: { memory: WasmMemory } }) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
/** A WebAssembly memory: `buffer` is replaced (the old one detached) whenever it grows. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;

/** A new WebAssembly memory of at least `bytes` bytes. */
export function wasmMemory(bytes: number): WasmMemory {
  return new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
}

/** A kernel's one function and its memory (its own, or one it shares with other kernels), which grows as asked. */
export class SimdInstance<F> {
  readonly run: F;
  readonly memory: WasmMemory;
  private readonly shared: boolean;

  constructor(bytes: Uint8Array, shared?: WasmMemory) {
    this.memory = shared ?? wasmMemory(PAGE);
    this.shared = shared !== undefined;
    const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory: this.memory } });
    this.run = instance.exports.run as F;
  }

  /** Grows the memory (its own, not a shared one) to at least `bytes`; views made before a growth are detached. */
  reserve(bytes: number): void {
    if (this.shared) throw new Error('SimdInstance.reserve: the memory is shared (a WasmArena never grows)');
    const have = this.memory.buffer.byteLength;
    if (have < bytes) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** A float32 view of the memory (valid until the next reserve() that grows it). */
  heap(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  /** The same as float64. */
  heap64(): Float64Array {
    return new Float64Array(this.memory.buffer);
  }
}

/** Bytes of a region of `size` float32 values in whole f32x4 vectors (16-byte multiples, so every region starts aligned). */
export function paddedBytes(size: number): number {
  return ((size + 3) & ~3) * 4;
}

// --- assembler --------------------------------------------------------------------------------

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
const name = (s: string): number[] => [...leb(s.length), ...[...s].map((ch) => ch.charCodeAt(0))];

export const get = (i: number): number[] => [0x20, ...leb(i)];
export const set = (i: number): number[] => [0x21, ...leb(i)];
const simd = (op: number): number[] => [0xfd, ...leb(op)];
export const LOAD = [...simd(0x00), 4, 0]; // v128.load, align 2^4, offset 0
/** v128.load at a constant byte offset past the address (a multiple of 16, below 128) */
export const loadAt = (offset: number): number[] => [...simd(0x00), 4, ...leb(offset)];
export const STORE = [...simd(0x0b), 4, 0]; // v128.store
/** v128.store at a constant byte offset past the address (a multiple of 16, below 128) */
export const storeAt = (offset: number): number[] => [...simd(0x0b), 4, ...leb(offset)];
/** f32x4 operations */
export const [SPLAT, ABS, SQRT, ADD, SUB, MUL, DIV] = [0x13, 0xe0, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7].map(simd);
/** f64x2 operations, and f32x4.demote_f64x2_zero (two float64 lanes rounded to float32 lanes 0, 1; lanes 2, 3 zero) */
export const [F64X2_SPLAT, F64X2_ADD, F64X2_MUL, F64X2_DIV, DEMOTE] = [0x14, 0xf0, 0xf2, 0xf3, 0x5e].map(simd);
/** i8x16.shuffle taking lanes 0, 1 of two f32x4: [a0, a1, b0, b1] */
export const LOW_HALVES = [...simd(0x0d), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
export const I32_ADD = [0x6a];
/** f64x2.promote_low_f32x4: f32x4 lanes 0, 1 widened (exactly) to two float64 lanes */
export const PROMOTE_LOW = simd(0x5f);
/** i8x16.shuffle moving lanes 2, 3 of an f32x4 (given twice) to lanes 0, 1 */
export const HIGH_HALF = [...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * A module importing its memory (`env.memory`) and exporting one function `run(...params)` (no result) that splats its f32
 * params `splat` into v128 locals, runs `prelude`, then runs `step` for every byte offset
 * i = 0, 16, 32, … (or 0, 32, 64, … with `stride` 32: a step of two vectors) below its i32 param
 * `bytesParam`, then `postlude`. `step(at, i)` gets `at(base)`, the instructions that push
 * base + i, and the local index of i.
 */
export function simdLoopModule(spec: {
  readonly params: readonly number[];
  readonly bytesParam: number;
  /** [f32 param index, v128 local index] pairs */
  readonly splat: readonly (readonly [number, number])[];
  /** more instructions to run before the loop */
  readonly prelude?: readonly number[];
  /** instructions to run after the loop (say, to store running sums kept in locals) */
  readonly postlude?: readonly number[];
  /** local types after the params, in order; the first must be the i32 counter */
  readonly locals: readonly number[];
  readonly step: (at: (base: number) => number[], counter: number) => number[];
  /** bytes the counter advances per step (default 16); the caller passes `bytesParam` a multiple of it */
  readonly stride?: 16 | 32;
}): Uint8Array {
  const counter = spec.params.length;
  if (spec.locals[0] !== I32) throw new Error('simdLoopModule: the first local must be the i32 counter');
  const at = (base: number) => [...get(base), ...get(counter), ...I32_ADD];
  const groups: number[][] = [];
  for (const t of spec.locals) {
    const last = groups[groups.length - 1];
    if (last && last[1] === t) last[0]++;
    else groups.push([1, t]);
  }
  const body = [
    ...vec(groups.map(([count, type]) => [...leb(count), type])),
    ...spec.splat.flatMap(([param, local]) => [...get(param), ...SPLAT, ...set(local)]),
    ...(spec.prelude ?? []),
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...get(counter), ...get(spec.bytesParam), 0x4f, 0x0d, 1, // i32.ge_u; br_if out of the block
    ...spec.step(at, counter),
    ...get(counter), 0x41, spec.stride ?? 16, ...I32_ADD, ...set(counter), // i += stride (i32.const 16 or 32: one signed LEB byte)
    0x0c, 0, // br to the loop's start
    0x0b, 0x0b, // end loop, end block
    ...(spec.postlude ?? []),
    0x0b, // end function
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec(spec.params.map((t) => [t])), ...vec([])]])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0]])), // the memory is given: any size, no maximum
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('run'), 0x00, 0]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
  ]);
}
