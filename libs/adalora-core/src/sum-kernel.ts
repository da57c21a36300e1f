import { F64X2_ADD, get, HIGH_HALF, I32, I32_ADD, LOAD, loadAt, paddedBytes, PROMOTE_LOW, set, simdLoopModule, SimdInstance, STORE, storeAt, V128, type WasmArena } from '@adalora/wasm-simd';

type AddFn = (sum: number, stage: number, bytes: number) => void;

/**
 * Float64 running sums (one per size given) kept in a WebAssembly memory, and a SIMD pass adding
 * float32 values into one of them: `sum[i] += float64(value i)`, the float32 widened exactly and
 * added in float64 as JS's `sum[i] += g[i]` does, so the bits are the same. Why: a coordinator adds
 * every worker's share (2 M values for BERT-base) into its sum, and the scalar JS loop took ≈ 3 ns
 * a value; this one adds four values per step, reading the share's bytes where they lie when they
 * are in its memory (a WasmArena the share was received into), else from a copy in its memory (a
 * memcpy, at any alignment).
 */
export class SumKernel {
  /** the sums, as views of the kernel's memory (which never grows after construction) */
  readonly sums: readonly Float64Array[];
  private readonly kernel: SimdInstance<AddFn>;
  private readonly offsets: readonly number[];
  private readonly stage: number;
  private readonly memory: ArrayBuffer;

  /** @param arena the memory to keep the sums in (its own when omitted, or when the arena is full) */
  constructor(sizes: readonly number[], arena?: WasmArena) {
    const offsets: number[] = [];
    let bytes = 0;
    for (const n of sizes) {
      if (!Number.isInteger(n) || n < 0) throw new Error(`SumKernel: sizes must be integers >= 0, got ${n}`);
      offsets.push(bytes);
      bytes += 2 * paddedBytes(n); // float64: twice a float32 region of whole vectors
    }
    const stageBytes = Math.max(0, ...sizes.map(paddedBytes));
    const base = arena?.allocate(bytes + stageBytes);
    this.kernel = new SimdInstance<AddFn>(moduleBytes(), base === undefined ? undefined : arena!.memory);
    if (base === undefined) this.kernel.reserve(bytes + stageBytes);
    const start = base ?? 0;
    this.offsets = offsets.map((o) => start + o);
    this.stage = start + bytes;
    this.memory = this.kernel.memory.buffer;
    this.sums = sizes.map((n, k) => new Float64Array(this.memory, this.offsets[k], n));
  }

  /** sums[k][i] += value i of `bytes`, little-endian float32 values (any byteOffset), one per sum value. */
  addFloat32(k: number, bytes: Uint8Array): void {
    const sum = this.sums[k];
    if (!sum) throw new Error(`SumKernel.addFloat32: no sum ${k}`);
    if (bytes.byteLength !== sum.length * 4) throw new RangeError(`SumKernel.addFloat32: ${bytes.byteLength} bytes for a sum of ${sum.length} values`);
    let at = bytes.byteOffset;
    // read in place when the bytes and a whole last vector (≤ 12 bytes past them) are in this memory
    if (bytes.buffer !== this.memory || at + paddedBytes(sum.length) > this.memory.byteLength) {
      new Uint8Array(this.memory, this.stage, bytes.byteLength).set(bytes);
      at = this.stage;
    }
    // whole vectors: the padding lanes add stale bytes into the sum's padding, which no view shows
    this.kernel.run(this.offsets[k], at, paddedBytes(sum.length));
  }
}

function moduleBytes(): Uint8Array {
  // params: 0 sum, 1 stage (byte addresses), 2 bytes of float32 staged (i32); locals: 3 the counter, 4 four values
  const [SUM, STAGE, BYTES, V] = [0, 1, 2, 4];
  return simdLoopModule({
    params: [I32, I32, I32],
    bytesParam: BYTES,
    splat: [],
    locals: [I32, V128],
    step: (at, i) => {
      const sumAt = [...get(SUM), ...get(i), ...get(i), ...I32_ADD, ...I32_ADD]; // sum + 2i: 4 float64 per 4 float32
      return [
        ...at(STAGE), ...LOAD, ...set(V),
        ...sumAt, ...sumAt, ...LOAD, ...get(V), ...PROMOTE_LOW, ...F64X2_ADD, ...STORE,
        ...sumAt, ...sumAt, ...loadAt(16), ...get(V), ...get(V), ...HIGH_HALF, ...PROMOTE_LOW, ...F64X2_ADD, ...storeAt(16),
      ];
    },
  });
}
