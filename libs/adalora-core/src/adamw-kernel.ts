/**
 * AdamW's per-element update as a small WebAssembly SIMD kernel (f32x4 lanes), assembled here
 * from its bytes: no toolchain, no file to load. WebAssembly's f32x4 add, sub, mul, div and sqrt
 * are IEEE float32 operations per lane, subnormals included (what tfjs's wasm kernels run too),
 * so the results are the bits of the same operations done one by one in float32. Why not a JS
 * loop with Math.fround: scalar, ≈ 20 ns per value on this machine, no faster than tf's ops.
 *
 * Per element, in this order (each operation rounded to float32):
 * ```
 * m' = m + (g − m)·c1;  v' = v·b2 + (g·g)·c2;  p' = p·decay − (m' / (√v' / bc2 + eps))·stepSize
 * ```
 */

/** The float32 constants of one update (already rounded to float32). */
export interface AdamWConstants {
  readonly decay: number;
  readonly c1: number;
  readonly b2: number;
  readonly c2: number;
  readonly bc2Sqrt: number;
  readonly eps: number;
  readonly stepSize: number;
}

// the part of the WebAssembly API used here (its types are in lib.dom, which this workspace leaves out)
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: Record<string, unknown> };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type UpdateFn = (p: number, g: number, m: number, v: number, out: number, bytes: number, ...c: number[]) => void;

const PAGE = 65536;

/** Where a parameter's two moments live in a kernel's memory (one region each). */
export interface MomentsHandle {
  /** values per moment */
  readonly size: number;
  /** byte offsets of exp_avg and exp_avg_sq */
  readonly m: number;
  readonly v: number;
}

/**
 * One kernel instance with its own memory: the moments of every parameter stay there between
 * steps (so a step copies in only the parameter and its gradient, and copies out the new
 * values), followed by scratch room for one parameter. The memory grows as needed.
 */
export class AdamWKernel {
  private readonly memory: WasmMemory;
  private readonly update: UpdateFn;
  /** end of the moments' regions, in bytes; the scratch room starts here */
  private used = 0;

  constructor() {
    const instance = new wasm.Instance(new wasm.Module(moduleBytes()));
    this.memory = instance.exports.memory as WasmMemory;
    this.update = instance.exports.update as UpdateFn;
  }

  /** Room for the two moments of a parameter of `size` values, zeroed; kept until reset(). */
  allocate(size: number): MomentsHandle {
    if (!Number.isInteger(size) || size < 0) throw new Error(`AdamWKernel.allocate: size must be an integer >= 0, got ${size}`);
    const bytes = paddedBytes(size);
    const at = this.used;
    this.reserve(at + 2 * bytes);
    new Uint8Array(this.memory.buffer, at, 2 * bytes).fill(0);
    this.used = at + 2 * bytes;
    return { size, m: at, v: at + bytes };
  }

  /** A view of one moment's values: valid until the next allocate() or run() (the memory may grow), never kept. */
  view(h: MomentsHandle, which: 'm' | 'v'): Float32Array {
    return new Float32Array(this.memory.buffer, h[which], h.size);
  }

  /** Forgets every moment (their room is reused from the start). */
  reset(): void {
    this.used = 0;
  }

  /**
   * One update of a parameter: its moments in place, and its new values into `out`, from its
   * values `p` and gradient `g` (each of `h.size` values; `p` may be a view of another heap).
   */
  run(p: Float32Array, g: Float32Array, h: MomentsHandle, out: Float32Array, c: AdamWConstants): void {
    const n = h.size;
    if (p.length !== n || g.length !== n || out.length !== n) {
      throw new Error(`AdamWKernel.run: ${n} moments, but p has ${p.length} values, g ${g.length}, out ${out.length}`);
    }
    const bytes = paddedBytes(n); // whole f32x4 vectors; the padding lanes compute garbage no one reads
    const [pAt, gAt, outAt] = [this.used, this.used + bytes, this.used + 2 * bytes];
    this.reserve(outAt + bytes);
    const heap = new Float32Array(this.memory.buffer); // after a grow: the old buffer is detached
    heap.set(p, pAt / 4);
    heap.set(g, gAt / 4);
    this.update(pAt, gAt, h.m, h.v, outAt, bytes, c.decay, c.c1, c.b2, c.c2, c.bc2Sqrt, c.eps, c.stepSize);
    out.set(heap.subarray(outAt / 4, outAt / 4 + n));
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (have < bytes) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

// 16-byte multiples: every region starts aligned and holds whole f32x4 vectors
function paddedBytes(size: number): number {
  return ((size + 3) & ~3) * 4;
}

// --- the module's bytes ---------------------------------------------------------------------

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

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

// instructions
const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];
const simd = (op: number) => [0xfd, ...leb(op)];
const load = [...simd(0x00), 4, 0]; // v128.load align 2^4, offset 0
const store = [...simd(0x0b), 4, 0]; // v128.store
const [SPLAT, SQRT, ADD, SUB, MUL, DIV] = [0x13, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7].map(simd); // f32x4.*
const I32_ADD = [0x6a];
const I32_GE_U = [0x4f];

function moduleBytes(): Uint8Array {
  // params: 0 p, 1 g, 2 m, 3 v, 4 out, 5 bytes (i32); 6 decay … 12 stepSize (f32)
  const [P, G, M, V, OUT, BYTES] = [0, 1, 2, 3, 4, 5];
  // locals: 13 i (i32); 14 … 20 the constants splatted (v128); 21 g, 22 m, 23 m', 24 v'
  const I = 13;
  const [DECAY, C1, B2, C2, BC2, EPS, SS] = [14, 15, 16, 17, 18, 19, 20];
  const [GI, M0, MI, VI] = [21, 22, 23, 24];
  const at = (base: number) => [...get(base), ...get(I), ...I32_ADD];
  const body = [
    ...vec([[1, I32], [11, V128]]),
    ...[0, 1, 2, 3, 4, 5, 6].flatMap((k) => [...get(6 + k), ...SPLAT, ...set(DECAY + k)]),
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...get(I), ...get(BYTES), ...I32_GE_U, 0x0d, 1, // br_if out of the block when i ≥ bytes
    ...at(G), ...load, ...set(GI),
    ...at(M), ...load, ...set(M0),
    // m' = m + (g − m)·c1
    ...get(M0), ...get(GI), ...get(M0), ...SUB, ...get(C1), ...MUL, ...ADD, ...set(MI),
    ...at(M), ...get(MI), ...store,
    // v' = v·b2 + (g·g)·c2
    ...at(V), ...load, ...get(B2), ...MUL, ...get(GI), ...get(GI), ...MUL, ...get(C2), ...MUL, ...ADD, ...set(VI),
    ...at(V), ...get(VI), ...store,
    // p' = p·decay − (m' / (√v' / bc2 + eps))·stepSize
    ...at(OUT),
    ...at(P), ...load, ...get(DECAY), ...MUL,
    ...get(MI), ...get(VI), ...SQRT, ...get(BC2), ...DIV, ...get(EPS), ...ADD, ...DIV, ...get(SS), ...MUL,
    ...SUB,
    ...store,
    ...get(I), 0x41, ...leb(16), ...I32_ADD, ...set(I), // i += 16 (0x41 i32.const: 16 is a one-byte signed LEB)
    0x0c, 0, // br to the loop's start
    0x0b, // end loop
    0x0b, // end block
    0x0b, // end function
  ];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32].map((t) => [t])), ...vec([])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])), // one page to start, no maximum
    ...section(7, vec([[...name('update'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
  ];
  return Uint8Array.from(bytes);
}
