import { F64X2_ADD, F64X2_MUL, get, HIGH_HALF, I32, I32_ADD, LOAD, loadAt, paddedBytes, PROMOTE_LOW, set, simdLoopModule, SimdInstance, STORE, storeAt, V128, type WasmArena } from '@adalora/wasm-simd';

type AddFn = (next: number, base: number, stage: number, bytes: number, lanes: number) => void;

/** the four float64 running sums of squares (two f64x2 vectors) */
const LANES_BYTES = 32;

/** Where a sum being made starts from: zero, the committed sums, or what this burst already put in `next`. */
export type SumBase = 'zero' | 'sums' | 'next';

/**
 * Float64 running sums (one per size given) kept in a WebAssembly memory, in two banks: `sums`,
 * the committed ones, and `next`, the ones being made. One SIMD pass adds float32 values into a
 * sum of `next` (from the committed sum, or in place) and returns their Σ x² in the same read:
 * `next[i] = base[i] + float64(value i)`, the float32 widened exactly and added in float64 as JS's
 * `sum[i] += g[i]` does (the same bits), and Σ x² with the bits of the protocol's squares pass.
 * Why: a coordinator adds every worker's share (2 M values, 8 MB for BERT-base) into its sum and
 * needs its norm first to judge it; one pass that does both reads the share once instead of
 * twice, and a refused share is undone for free by not committing `next`. The pass reads the
 * share's bytes where they lie when they are in its memory (a WasmArena the share was received
 * into), else from a copy in its memory (a memcpy, at any alignment).
 */
export class SumKernel {
  private readonly banks: readonly (readonly Float64Array[])[];
  private current = 0;
  private readonly kernel: SimdInstance<AddFn>;
  private readonly stage: number;
  private readonly lanesAt: number;
  /** zeros as long as the longest sum, never written: the base of a first burst (no 16 MB fill to empty the sums) */
  private readonly zeros: Float64Array;
  /** the running sums of squares the pass leaves (a view that stays valid: the memory never grows) */
  private readonly lanes: Float64Array;
  private readonly memory: ArrayBuffer;

  /** The bytes a kernel for these sizes takes of an arena: two banks of sums, the zeros, the lanes, the stage. */
  static bytesFor(sizes: readonly number[]): number {
    return layout(sizes).bytes;
  }

  /** @param arena the memory to keep the sums in (its own when omitted, or when the arena is full) */
  constructor(sizes: readonly number[], arena?: WasmArena) {
    const { offsets, bank, stageBytes, bytes } = layout(sizes);
    const base = arena?.allocate(bytes);
    this.kernel = new SimdInstance<AddFn>(moduleBytes(), base === undefined ? undefined : arena!.memory);
    if (base === undefined) this.kernel.reserve(bytes);
    const start = base ?? 0;
    const zerosAt = start + 2 * bank;
    this.lanesAt = zerosAt + 2 * stageBytes;
    this.stage = this.lanesAt + LANES_BYTES;
    this.memory = this.kernel.memory.buffer;
    this.lanes = new Float64Array(this.memory, this.lanesAt, 4);
    this.zeros = new Float64Array(this.memory, zerosAt, stageBytes / 4).fill(0); // an arena's region may hold old bytes
    this.banks = [0, 1].map((b) => sizes.map((n, k) => new Float64Array(this.memory, start + b * bank + offsets[k], n)));
  }

  /** The committed sums (views of the kernel's memory, which never grows after construction; they change bank at commit). */
  get sums(): readonly Float64Array[] {
    return this.banks[this.current];
  }

  /** The sums being made: commit() makes them the sums. */
  get next(): readonly Float64Array[] {
    return this.banks[1 - this.current];
  }

  /** next becomes sums (and the old sums the scratch for the next burst). */
  commit(): void {
    this.current = 1 - this.current;
  }

  /** next[k] = zero or sums[k], for a sum made in JS (from values no pass of this kernel reads). */
  startNext(k: number, from: Exclude<SumBase, 'next'>): void {
    if (from === 'zero') this.next[k].fill(0);
    else this.next[k].set(this.sums[k]);
  }

  /**
   * next[k][i] = base[k][i] + value i of `bytes` (little-endian float32 values, any byteOffset, one
   * per sum value; base: zero, the committed sum, or next itself) and returns Σ value² in float64 (NaN
   * or ∞ when a value is not finite or a square overflows).
   */
  addSquared(k: number, bytes: Uint8Array, base: SumBase): number {
    const next = this.next[k];
    if (!next) throw new Error(`SumKernel.addSquared: no sum ${k}`);
    if (bytes.byteLength !== next.length * 4) throw new RangeError(`SumKernel.addSquared: ${bytes.byteLength} bytes for a sum of ${next.length} values`);
    const n = next.length;
    const eights = n - (n % 8); // the pass's steps of eight values; the rest below
    const fours = n - (n % 4);
    const from = base === 'zero' ? this.zeros : base === 'sums' ? this.sums[k] : next;
    let at = bytes.byteOffset;
    if (bytes.buffer !== this.memory) {
      new Uint8Array(this.memory, this.stage, bytes.byteLength).set(bytes);
      at = this.stage;
    }
    const lanes = this.lanes;
    lanes.fill(0);
    this.kernel.run(next.byteOffset, from.byteOffset, at, eights * 4, this.lanesAt);
    if (eights === n) return lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
    // the rest as the pass would go on: a last group of four into lanes 0–3, then the last n mod 4
    // values' squares into the first lane, as the squares pass does
    const rest = new DataView(bytes.buffer, bytes.byteOffset + eights * 4, (n - eights) * 4);
    for (let i = eights; i < n; i++) {
      const x = rest.getFloat32((i - eights) * 4, true);
      next[i] = from[i] + x;
      lanes[i < fours ? i % 4 : 0] += x * x;
    }
    return lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
  }
}

/** Where each sum lies in a bank (float64: twice a float32 region of whole vectors), a bank's bytes, the stage's, and the whole. */
function layout(sizes: readonly number[]): { offsets: number[]; bank: number; stageBytes: number; bytes: number } {
  const offsets: number[] = [];
  let bank = 0;
  for (const n of sizes) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`SumKernel: sizes must be integers >= 0, got ${n}`);
    offsets.push(bank);
    bank += 2 * paddedBytes(n);
  }
  const stageBytes = Math.max(0, ...sizes.map(paddedBytes));
  // two banks, zeros as long as the longest float64 sum, the lanes, the stage
  return { offsets, bank, stageBytes, bytes: 2 * bank + 2 * stageBytes + LANES_BYTES + stageBytes };
}

function moduleBytes(): Uint8Array {
  // params: 0 next, 1 base (sum addresses), 2 stage, 3 bytes of float32, 4 lanes (i32); locals: 5 the
  // counter i, 6 next + 2i, 7 base + 2i, 8 four values, 9 two widened, 10 squares of lanes 0 and 1, 11 of lanes 2 and 3
  const [NEXT, BASE, STAGE, BYTES, LANES, NEXT_AT, BASE_AT, V, W, LOW, HIGH] = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11];
  const lanes = get(LANES);
  // two float64 (sum offset `at`, bytes from NEXT_AT / BASE_AT) from widened values `widen`, their squares into `squares`
  const pair = (widen: number[], at: number, squares: number) => [
    ...widen, ...set(W),
    ...get(NEXT_AT), ...get(BASE_AT), ...loadAt(at), ...get(W), ...F64X2_ADD, ...storeAt(at),
    ...get(squares), ...get(W), ...get(W), ...F64X2_MUL, ...F64X2_ADD, ...set(squares),
  ];
  // four float32 at stage + i + `at`: values 4k, 4k+1 into sum and squares lanes 0, 1; 4k+2, 4k+3 into lanes 2, 3
  const four = (stageAt: number[], at: 0 | 16) => [
    ...stageAt, ...loadAt(at), ...set(V),
    ...pair([...get(V), ...PROMOTE_LOW], 2 * at, LOW),
    ...pair([...get(V), ...get(V), ...HIGH_HALF, ...PROMOTE_LOW], 2 * at + 16, HIGH),
  ];
  return simdLoopModule({
    params: [I32, I32, I32, I32, I32],
    bytesParam: BYTES,
    splat: [],
    locals: [I32, I32, I32, V128, V128, V128, V128],
    prelude: [...lanes, ...LOAD, ...set(LOW), ...lanes, ...loadAt(16), ...set(HIGH)],
    // eight values a step (two vectors): the loop's own work, and the addresses, once per eight
    stride: 32,
    step: (at, i) => [
      ...get(NEXT), ...get(i), ...get(i), ...I32_ADD, ...I32_ADD, ...set(NEXT_AT), // 4 float64 per 4 float32
      ...get(BASE), ...get(i), ...get(i), ...I32_ADD, ...I32_ADD, ...set(BASE_AT),
      ...four(at(STAGE), 0),
      ...four(at(STAGE), 16),
    ],
    postlude: [...lanes, ...get(LOW), ...STORE, ...lanes, ...get(HIGH), ...storeAt(16)],
  });
}
