import { ADD, DEMOTE, F64, F64X2_ADD, F64X2_DIV, F64X2_SPLAT, get, I32, I32_ADD, LOAD, loadAt, LOW_HALVES, paddedBytes, set, simdLoopModule, SimdInstance, STORE, V128 } from '@adalora/wasm-simd';

type MeanFn = (sum: number, reg: number, out: number, bytes: number, samples: number) => void;

/**
 * The mean gradient from float64 sums as a WebAssembly SIMD kernel (see @adalora/wasm-simd for why the
 * bits are those of the operations one by one), per element:
 * `out = float32((0 + sum) / samples)`, then `+ reg` in float32 when a regulariser gradient is
 * given. The `0 +` is a float64 sum's start: −0 becomes +0.
 */
export class MeanKernel {
  private readonly plain = new SimdInstance<MeanFn>(moduleBytes(false));
  private readonly regularised = new SimdInstance<MeanFn>(moduleBytes(true));

  run(sum: Float64Array, samples: number, reg: Float32Array | undefined, out: Float32Array): void {
    const n = out.length;
    if (sum.length !== n || (reg && reg.length !== n)) {
      throw new Error(`MeanKernel.run: lengths differ (sum ${sum.length}${reg ? `, reg ${reg.length}` : ''}, out ${n})`);
    }
    const kernel = reg ? this.regularised : this.plain;
    const bytes = paddedBytes(n); // whole vectors of 4; the padding lanes compute garbage no one reads
    const lanes = bytes / 4;
    kernel.reserve(4 * bytes); // sums (2 × bytes), reg, out
    kernel.heap64().set(sum, 0);
    const heap = kernel.heap();
    if (reg) heap.set(reg, 2 * lanes);
    kernel.run(0, 2 * bytes, 3 * bytes, bytes, samples);
    out.set(heap.subarray(3 * lanes, 3 * lanes + n));
  }
}

function moduleBytes(withReg: boolean): Uint8Array {
  // params: 0 sum, 1 reg, 2 out, 3 bytes (i32), 4 samples (f64)
  const [SUM, REG, OUT, BYTES] = [0, 1, 2, 3];
  // locals: 5 the counter; 6 samples splatted; 7 zero (locals start at 0); 8, 9 two float64 pairs
  const [S, ZERO, LO, HI] = [6, 7, 8, 9];
  return simdLoopModule({
    params: [I32, I32, I32, I32, F64],
    bytesParam: BYTES,
    splat: [],
    prelude: [...get(4), ...F64X2_SPLAT, ...set(S)],
    locals: [I32, V128, V128, V128, V128],
    step: (at, i) => {
      const sumAt = [...get(SUM), ...get(i), ...get(i), ...I32_ADD, ...I32_ADD]; // sum + 2i: 4 float64 per 4 float32
      return [
        ...sumAt, ...LOAD, ...set(LO),
        ...sumAt, ...loadAt(16), ...set(HI),
        ...at(OUT),
        ...get(ZERO), ...get(LO), ...F64X2_ADD, ...get(S), ...F64X2_DIV, ...DEMOTE,
        ...get(ZERO), ...get(HI), ...F64X2_ADD, ...get(S), ...F64X2_DIV, ...DEMOTE,
        ...LOW_HALVES,
        ...(withReg ? [...at(REG), ...LOAD, ...ADD] : []),
        ...STORE,
      ];
    },
  });
}
