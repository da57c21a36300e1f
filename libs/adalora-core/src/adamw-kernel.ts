import { ADD, DIV, F32, get, I32, LOAD, MUL, paddedBytes, set, simdLoopModule, SimdInstance, SQRT, STORE, SUB, V128 } from '@adalora/wasm-simd';

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

/** Where a parameter's two moments live in a kernel's memory (one region each). */
export interface MomentsHandle {
  /** values per moment */
  readonly size: number;
  /** byte offsets of exp_avg and exp_avg_sq */
  readonly m: number;
  readonly v: number;
}

type UpdateFn = (p: number, g: number, m: number, v: number, out: number, bytes: number, ...c: number[]) => void;

/**
 * AdamW's per-element update as a WebAssembly SIMD kernel (see @adalora/wasm-simd for why the bits
 * are those of float32 operations one by one), per element in this order:
 * ```
 * m' = m + (g − m)·c1;  v' = v·b2 + (g·g)·c2;  p' = p·decay − (m' / (√v' / bc2 + eps))·stepSize
 * ```
 * The moments of every parameter stay in the kernel's memory between steps (so a step copies in
 * only the parameter and its gradient, and copies out the new values), followed by scratch room
 * for one parameter.
 */
export class AdamWKernel {
  private readonly kernel = new SimdInstance<UpdateFn>(moduleBytes());
  /** end of the moments' regions, in bytes; the scratch room starts here */
  private used = 0;

  /** Room for the two moments of a parameter of `size` values, zeroed; kept until reset(). */
  allocate(size: number): MomentsHandle {
    if (!Number.isInteger(size) || size < 0) throw new Error(`AdamWKernel.allocate: size must be an integer >= 0, got ${size}`);
    const bytes = paddedBytes(size);
    const at = this.used;
    this.kernel.reserve(at + 2 * bytes);
    this.kernel.heap().fill(0, at / 4, (at + 2 * bytes) / 4);
    this.used = at + 2 * bytes;
    return { size, m: at, v: at + bytes };
  }

  /** A view of one moment's values: valid until the next allocate() or run() (the memory may grow), never kept. */
  view(h: MomentsHandle, which: 'm' | 'v'): Float32Array {
    return this.kernel.heap().subarray(h[which] / 4, h[which] / 4 + h.size);
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
    this.kernel.reserve(outAt + bytes);
    const heap = this.kernel.heap(); // after a growth: the old buffer is detached
    heap.set(p, pAt / 4);
    heap.set(g, gAt / 4);
    this.kernel.run(pAt, gAt, h.m, h.v, outAt, bytes, c.decay, c.c1, c.b2, c.c2, c.bc2Sqrt, c.eps, c.stepSize);
    out.set(heap.subarray(outAt / 4, outAt / 4 + n));
  }
}

function moduleBytes(): Uint8Array {
  // params: 0 p, 1 g, 2 m, 3 v, 4 out, 5 bytes (i32); 6 decay … 12 stepSize (f32)
  const [P, G, M, V, OUT, BYTES] = [0, 1, 2, 3, 4, 5];
  // locals: 13 the counter; 14 … 20 the constants splatted; 21 g, 22 m, 23 m', 24 v'
  const [DECAY, C1, B2, C2, BC2, EPS, SS] = [14, 15, 16, 17, 18, 19, 20];
  const [GI, M0, MI, VI] = [21, 22, 23, 24];
  return simdLoopModule({
    params: [I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32],
    bytesParam: BYTES,
    splat: [0, 1, 2, 3, 4, 5, 6].map((k) => [6 + k, DECAY + k] as const),
    locals: [I32, ...Array<number>(11).fill(V128)],
    step: (at) => [
      ...at(G), ...LOAD, ...set(GI),
      ...at(M), ...LOAD, ...set(M0),
      // m' = m + (g − m)·c1
      ...get(M0), ...get(GI), ...get(M0), ...SUB, ...get(C1), ...MUL, ...ADD, ...set(MI),
      ...at(M), ...get(MI), ...STORE,
      // v' = v·b2 + (g·g)·c2
      ...at(V), ...LOAD, ...get(B2), ...MUL, ...get(GI), ...get(GI), ...MUL, ...get(C2), ...MUL, ...ADD, ...set(VI),
      ...at(V), ...get(VI), ...STORE,
      // p' = p·decay − (m' / (√v' / bc2 + eps))·stepSize
      ...at(OUT),
      ...at(P), ...LOAD, ...get(DECAY), ...MUL,
      ...get(MI), ...get(VI), ...SQRT, ...get(BC2), ...DIV, ...get(EPS), ...ADD, ...DIV, ...get(SS), ...MUL,
      ...SUB,
      ...STORE,
    ],
  });
}
