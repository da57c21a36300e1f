import { F64X2_ADD, F64X2_MUL, get, HIGH_HALF, I32, I32_ADD, LOAD, loadAt, PROMOTE_LOW, set, simdLoopModule, SimdInstance, STORE, storeAt, V128, type WasmArena } from '@adalora/wasm-simd';

type RunFn = (lanes: number, values: number, bytes: number) => void;

/** the four float64 running sums (two f64x2 vectors), then the stage */
const LANES_BYTES = 64;
/** values are staged 64 KB at a time: a native copy from any byteOffset into memory that stays in cache */
const STAGE_BYTES = 1 << 16;

/**
 * Σ x² of float32 or float64 wire bytes as a WebAssembly SIMD pass. The squares go into four
 * float64 running sums, value i into sum i mod 4 and the last n mod 4 into the first, then
 * (s0 + s1) + (s2 + s3): the same operations, in the same order, as the scalar JS loop this
 * replaces, so the result has the same bits (the wire-arithmetic test checks it). Why: every
 * received gradient share and state is checked for finite values by its Σ x² (one read serves
 * the finite check and the norm guard), 8 MB per BERT-base share, and the scalar loop took
 * ≈ 1.5 ns a value, most of a coordinator's per-share time; this pass squares four values per
 * step, reading them where they lie when they are in its memory (a WasmArena the message was
 * received into), else copying them 64 KB at a time into its memory (at any alignment).
 */
export class SquaresKernel {
  private readonly float32: SimdInstance<RunFn>;
  private readonly float64: SimdInstance<RunFn>;
  /** byte address of the lanes, then the stage */
  private readonly lanesAt: number;

  /** @param arena the memory to work in (its own when omitted, or when the arena is full) */
  constructor(arena?: WasmArena) {
    const at = arena?.allocate(LANES_BYTES + STAGE_BYTES);
    const memory = at === undefined ? undefined : arena!.memory;
    this.float32 = new SimdInstance<RunFn>(moduleBytes(4), memory);
    this.float64 = new SimdInstance<RunFn>(moduleBytes(8), memory);
    this.lanesAt = at ?? 0;
    if (at === undefined) for (const k of [this.float32, this.float64]) k.reserve(LANES_BYTES + STAGE_BYTES);
  }

  /** Σ x² of the little-endian values of `width` bytes in `data` (any byteOffset). */
  sumOfSquares(data: Uint8Array, width: 4 | 8): number {
    const kernel = width === 4 ? this.float32 : this.float64;
    const lanes = new Float64Array(kernel.memory.buffer, this.lanesAt, 4);
    lanes.fill(0);
    const whole = data.byteLength - (data.byteLength % (4 * width)); // groups of four values
    if (data.buffer === kernel.memory.buffer) {
      kernel.run(this.lanesAt, data.byteOffset, counted(whole, width));
    } else {
      const stage = this.lanesAt + LANES_BYTES;
      const heapBytes = new Uint8Array(kernel.memory.buffer);
      for (let at = 0; at < whole; at += STAGE_BYTES) {
        const bytes = Math.min(STAGE_BYTES, whole - at);
        heapBytes.set(data.subarray(at, at + bytes), stage);
        kernel.run(this.lanesAt, stage, counted(bytes, width));
      }
    }
    let first = lanes[0];
    if (whole < data.byteLength) {
      const view = new DataView(data.buffer, data.byteOffset + whole, data.byteLength - whole);
      for (let b = 0; b < view.byteLength; b += width) {
        const x = width === 4 ? view.getFloat32(b, true) : view.getFloat64(b, true);
        first += x * x;
      }
    }
    return first + lanes[1] + (lanes[2] + lanes[3]);
  }
}

/** the bytes a module's counter walks over for `bytes` of values: the float64 module walks half of them (see moduleBytes) */
function counted(bytes: number, width: 4 | 8): number {
  return width === 4 ? bytes : bytes / 2;
}

function moduleBytes(width: 4 | 8): Uint8Array {
  // params: 0 lanes address, 1 values address, 2 bytes; locals: 3 the counter, 4 values, 5 sums of lanes 0 and 1, 6 of lanes 2 and 3
  const [LANES, STAGE, BYTES, V, LOW, HIGH] = [0, 1, 2, 4, 5, 6];
  const lanesAddress = get(LANES);
  const square = (x: number[]) => [...x, ...x, ...F64X2_MUL];
  // float32: a step's vector holds values 4k .. 4k+3; values 4k, 4k+1 widen to lanes 0, 1, values 4k+2, 4k+3 to lanes 2, 3
  const step32 = (at: (base: number) => number[]) => [
    ...at(STAGE), ...LOAD, ...set(V),
    ...get(LOW), ...square([...get(V), ...PROMOTE_LOW]), ...F64X2_ADD, ...set(LOW),
    ...get(HIGH), ...square([...get(V), ...get(V), ...HIGH_HALF, ...PROMOTE_LOW]), ...F64X2_ADD, ...set(HIGH),
  ];
  // float64: the counter i runs to half the bytes, and step i reads values 4k .. 4k+3 at stage + 2i and stage + 2i + 16
  const step64 = (_at: (base: number) => number[], i: number) => {
    const address = [...get(STAGE), ...get(i), ...get(i), ...I32_ADD, ...I32_ADD];
    return [
      ...get(LOW), ...square([...address, ...LOAD]), ...F64X2_ADD, ...set(LOW),
      ...get(HIGH), ...square([...address, ...loadAt(16)]), ...F64X2_ADD, ...set(HIGH),
    ];
  };
  return simdLoopModule({
    params: [I32, I32, I32],
    bytesParam: BYTES,
    splat: [],
    locals: [I32, V128, V128, V128],
    prelude: [...lanesAddress, ...LOAD, ...set(LOW), ...lanesAddress, ...loadAt(16), ...set(HIGH)],
    step: width === 4 ? step32 : step64,
    postlude: [...lanesAddress, ...get(LOW), ...STORE, ...lanesAddress, ...get(HIGH), ...storeAt(16)],
  });
}
