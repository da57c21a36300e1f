import { ABS, ADD, F32, get, I32, LOAD, MUL, paddedBytes, set, simdLoopModule, SimdInstance, STORE, SUB, V128 } from '@adalora/wasm-simd';

type EmaFn = (w: number, g: number, ipt: number, unc: number, bytes: number, b1: number, c1: number, b2: number, c2: number) => void;

/**
 * peft's sensitivity / uncertainty EMA step as a WebAssembly SIMD kernel (see @adalora/wasm-simd for
 * why the bits are those of float32 operations one by one), per element in this order:
 * ```
 * x = |w·g|;  ipt' = b1·ipt + c1·x;  unc' = b2·unc + c2·|x − ipt'|
 * ```
 */
export class EmaKernel {
  private readonly kernel = new SimdInstance<EmaFn>(moduleBytes());

  /** One step over one tensor: `ipt` and `unc` in place, from weights `w` and gradient `g` (any views). */
  run(w: Float32Array, g: Float32Array, ipt: Float32Array, unc: Float32Array, b1: number, c1: number, b2: number, c2: number): void {
    const n = ipt.length;
    if (w.length !== n || g.length !== n || unc.length !== n) {
      throw new Error(`EmaKernel.run: lengths differ (w ${w.length}, g ${g.length}, ipt ${n}, unc ${unc.length})`);
    }
    const bytes = paddedBytes(n); // whole f32x4 vectors; the padding lanes compute garbage no one reads
    const lanes = bytes / 4;
    this.kernel.reserve(4 * bytes);
    const heap = this.kernel.heap();
    heap.set(w, 0);
    heap.set(g, lanes);
    heap.set(ipt, 2 * lanes);
    heap.set(unc, 3 * lanes);
    this.kernel.run(0, bytes, 2 * bytes, 3 * bytes, bytes, b1, c1, b2, c2);
    ipt.set(heap.subarray(2 * lanes, 2 * lanes + n));
    unc.set(heap.subarray(3 * lanes, 3 * lanes + n));
  }
}

function moduleBytes(): Uint8Array {
  // params: 0 w, 1 g, 2 ipt, 3 unc, 4 bytes (i32); 5 b1, 6 c1, 7 b2, 8 c2 (f32)
  const [W, G, IPT, UNC, BYTES] = [0, 1, 2, 3, 4];
  // locals: 9 the counter; 10 … 13 the constants splatted; 14 x, 15 ipt'
  const [B1, C1, B2, C2, X, M] = [10, 11, 12, 13, 14, 15];
  return simdLoopModule({
    params: [I32, I32, I32, I32, I32, F32, F32, F32, F32],
    bytesParam: BYTES,
    splat: [[5, B1], [6, C1], [7, B2], [8, C2]],
    locals: [I32, V128, V128, V128, V128, V128, V128],
    step: (at) => [
      // x = |w·g|
      ...at(W), ...LOAD, ...at(G), ...LOAD, ...MUL, ...ABS, ...set(X),
      // ipt' = b1·ipt + c1·x
      ...get(B1), ...at(IPT), ...LOAD, ...MUL, ...get(C1), ...get(X), ...MUL, ...ADD, ...set(M),
      ...at(IPT), ...get(M), ...STORE,
      // unc' = b2·unc + c2·|x − ipt'|
      ...at(UNC),
      ...get(B2), ...at(UNC), ...LOAD, ...MUL, ...get(C2), ...get(X), ...get(M), ...SUB, ...ABS, ...MUL, ...ADD,
      ...STORE,
    ],
  });
}
