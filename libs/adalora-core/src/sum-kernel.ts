import { F64X2_ADD, F64X2_MUL, get, HIGH_HALF, I32, I32_ADD, loadAt, paddedBytes, PROMOTE_LOW, set, simdLoopModule, SimdInstance, storeAt, V128, type WasmArena } from '@adalora/wasm-simd';

/** (next, base, shares 1…m, bytes, lanes) for a pass over m shares */
type AddFn = (...args: number[]) => void;

/** shares one pass adds at most: the sum is read and written once per pass, each share's Σ x² kept in two registers */
const MAX_SHARES_PER_PASS = 4;

/** a share's four float64 running sums of squares (two f64x2 vectors) */
const LANES_BYTES = 32;

/** Where a sum being made starts from: zero, the committed sums, or what this burst already put in `next`. */
export type SumBase = 'zero' | 'sums' | 'next';

/**
 * Float64 running sums (one per size given) kept in a WebAssembly memory, in two banks: `sums`,
 * the committed ones, and `next`, the ones being made. One SIMD pass adds the float32 values of
 * up to four shares into a sum of `next` (from the committed sum, or in place) and returns each
 * share's Σ x² in the same read: `next[i] = base[i] + float64(share 1's value i) + float64(share
 * 2's) + …`, in that order, the float32 widened exactly and added in float64 as JS's `sum[i] +=
 * g[i]` share after share does (the same bits), and Σ x² with the bits of the protocol's squares
 * pass. Why: a coordinator adds every worker's share (2 M values, 8 MB for BERT-base) into its sum
 * and needs its norm first to judge it; one pass that does both reads the share once instead of
 * twice, a refused share is undone for free by not committing `next`, and a pass over several
 * waiting shares reads and writes the sum once for all of them. The pass reads the shares' bytes
 * where they lie when they are in its memory (a WasmArena the shares were received into), else
 * from a copy in its memory (a memcpy, at any alignment, one share a pass).
 */
export class SumKernel {
  private readonly banks: readonly (readonly Float64Array[])[];
  private current = 0;
  /** the pass over m shares at index m − 1, all on one memory */
  private readonly passes: readonly SimdInstance<AddFn>[];
  private readonly stage: number;
  private readonly lanesAt: number;
  /** zeros as long as the longest sum, never written: the base of a first burst (no 16 MB fill to empty the sums) */
  private readonly zeros: Float64Array;
  /** each share's running sums of squares the pass leaves, four per share (a view that stays valid: the memory never grows) */
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
    const first = new SimdInstance<AddFn>(moduleBytes(1), base === undefined ? undefined : arena!.memory);
    if (base === undefined) first.reserve(bytes);
    this.passes = [first, ...Array.from({ length: MAX_SHARES_PER_PASS - 1 }, (_, m) => new SimdInstance<AddFn>(moduleBytes(m + 2), first.memory))];
    const start = base ?? 0;
    const zerosAt = start + 2 * bank;
    this.lanesAt = zerosAt + 2 * stageBytes;
    this.stage = this.lanesAt + LANES_BYTES * MAX_SHARES_PER_PASS;
    this.memory = first.memory.buffer;
    this.lanes = new Float64Array(this.memory, this.lanesAt, 4 * MAX_SHARES_PER_PASS);
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
    return this.addShares(k, [bytes], base)[0];
  }

  /**
   * next[k][i] = base[k][i] + value i of shares[0] + value i of shares[1] + …, in that order (each
   * as addSquared takes it), and each share's Σ value²: the bits of addSquared share after share,
   * the first from `base`, the others in place, in passes of up to four shares.
   */
  addShares(k: number, shares: readonly Uint8Array[], base: SumBase): number[] {
    const next = this.next[k];
    if (!next) throw new Error(`SumKernel.addShares: no sum ${k}`);
    for (const bytes of shares) if (bytes.byteLength !== next.length * 4) throw new RangeError(`SumKernel.addShares: ${bytes.byteLength} bytes for a sum of ${next.length} values`);
    const squares: number[] = [];
    for (let j = 0; j < shares.length; ) {
      // shares lying in this memory go together; one that does not goes alone, through the stage
      let m = 1;
      if (shares[j].buffer === this.memory) while (m < MAX_SHARES_PER_PASS && j + m < shares.length && shares[j + m].buffer === this.memory) m++;
      squares.push(...this.pass(k, shares.slice(j, j + m), j === 0 ? base : 'next'));
      j += m;
    }
    return squares;
  }

  /** One pass over `shares` (all in this memory, or one anywhere). */
  private pass(k: number, shares: readonly Uint8Array[], base: SumBase): number[] {
    const next = this.next[k];
    const n = next.length;
    const eights = n - (n % 8); // the pass's steps of eight values; the rest below
    const fours = n - (n % 4);
    const from = base === 'zero' ? this.zeros : base === 'sums' ? this.sums[k] : next;
    let at = shares.map((b) => b.byteOffset);
    if (shares[0].buffer !== this.memory) {
      new Uint8Array(this.memory, this.stage, shares[0].byteLength).set(shares[0]);
      at = [this.stage];
    }
    const m = shares.length;
    const lanes = this.lanes;
    lanes.fill(0, 0, 4 * m);
    this.passes[m - 1].run(next.byteOffset, from.byteOffset, ...at, eights * 4, this.lanesAt);
    if (eights < n) {
      // the rest as the pass would go on: a last group of four into lanes 0–3, then the last n mod 4
      // values' squares into the first lane, as the squares pass does
      const rest = shares.map((b) => new DataView(b.buffer, b.byteOffset + eights * 4, (n - eights) * 4));
      for (let i = eights; i < n; i++) {
        let sum = from[i];
        for (let j = 0; j < m; j++) {
          const x = rest[j].getFloat32((i - eights) * 4, true);
          sum += x;
          lanes[4 * j + (i < fours ? i % 4 : 0)] += x * x;
        }
        next[i] = sum;
      }
    }
    return shares.map((_, j) => lanes[4 * j] + lanes[4 * j + 1] + (lanes[4 * j + 2] + lanes[4 * j + 3]));
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
  return { offsets, bank, stageBytes, bytes: 2 * bank + 2 * stageBytes + LANES_BYTES * MAX_SHARES_PER_PASS + stageBytes };
}

/** The pass over `m` shares (see SumKernel). */
function moduleBytes(m: number): Uint8Array {
  // params: 0 next, 1 base (sum addresses), 2 … m + 1 the shares, m + 2 bytes of float32 per share,
  // m + 3 lanes (i32); locals: the counter i, next + 2i, base + 2i, four values, two widened, the
  // sums of lanes 0–1 and 2–3 being made, then per share its squares of lanes 0 and 1, of lanes 2 and 3
  const SHARE = 2;
  const [BYTES, LANES] = [m + 2, m + 3];
  const [NEXT_AT, BASE_AT, V, W, SUM_LOW, SUM_HIGH] = [m + 5, m + 6, m + 7, m + 8, m + 9, m + 10];
  const LOW = (j: number) => m + 11 + 2 * j;
  const HIGH = (j: number) => m + 12 + 2 * j;
  const [NEXT, BASE] = [0, 1];
  const shares = Array.from({ length: m }, (_, j) => j);
  // widened values `widen` added to the sum being made `sum`, their squares into `squares`
  const add = (widen: number[], sum: number, squares: number) => [
    ...widen, ...set(W),
    ...get(sum), ...get(W), ...F64X2_ADD, ...set(sum),
    ...get(squares), ...get(W), ...get(W), ...F64X2_MUL, ...F64X2_ADD, ...set(squares),
  ];
  // four values of each share at its i + `at`: values 4k, 4k+1 into the sum and squares lanes 0, 1; 4k+2, 4k+3 into lanes 2, 3
  const four = (at: (base: number) => number[], offset: 0 | 16) => [
    ...get(BASE_AT), ...loadAt(2 * offset), ...set(SUM_LOW),
    ...get(BASE_AT), ...loadAt(2 * offset + 16), ...set(SUM_HIGH),
    ...shares.flatMap((j) => [
      ...at(SHARE + j), ...loadAt(offset), ...set(V),
      ...add([...get(V), ...PROMOTE_LOW], SUM_LOW, LOW(j)),
      ...add([...get(V), ...get(V), ...HIGH_HALF, ...PROMOTE_LOW], SUM_HIGH, HIGH(j)),
    ]),
    ...get(NEXT_AT), ...get(SUM_LOW), ...storeAt(2 * offset),
    ...get(NEXT_AT), ...get(SUM_HIGH), ...storeAt(2 * offset + 16),
  ];
  return simdLoopModule({
    params: [I32, I32, ...shares.map(() => I32), I32, I32],
    bytesParam: BYTES,
    splat: [],
    locals: [I32, I32, I32, V128, V128, V128, V128, ...shares.flatMap(() => [V128, V128])],
    // share j's lanes at LANES + 32j (memarg offsets, at most 112)
    prelude: shares.flatMap((j) => [...get(LANES), ...loadAt(LANES_BYTES * j), ...set(LOW(j)), ...get(LANES), ...loadAt(LANES_BYTES * j + 16), ...set(HIGH(j))]),
    // eight values a step (two vectors): the loop's own work, and the addresses, once per eight
    stride: 32,
    step: (at, i) => [
      ...get(NEXT), ...get(i), ...get(i), ...I32_ADD, ...I32_ADD, ...set(NEXT_AT), // 4 float64 per 4 float32
      ...get(BASE), ...get(i), ...get(i), ...I32_ADD, ...I32_ADD, ...set(BASE_AT),
      ...four(at, 0),
      ...four(at, 16),
    ],
    postlude: shares.flatMap((j) => [...get(LANES), ...get(LOW(j)), ...storeAt(LANES_BYTES * j), ...get(LANES), ...get(HIGH(j)), ...storeAt(LANES_BYTES * j + 16)]),
  });
}
