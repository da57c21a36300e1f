/**
 * Arithmetic straight off a received wire tensor's bytes, at any byteOffset and without a copy
 * of the whole: a typed-array view where the offset is aligned, else the tensor a chunk at a
 * time through an aligned scratch (see aligned-scratch.ts; msgpackr puts a tensor's bytes
 * wherever the message layout leaves them, so most are unaligned). These are the coordinator's
 * per-share passes over 8–16 MB gradients: a fresh aligned copy of a share would cost more than
 * the pass itself.
 */
import { WasmArena } from '@adalora/wasm-simd';
import { loadScratch, SCRATCH_VALUES, scratch32, scratch64 } from './aligned-scratch';
import { float16BitsToFloat32 } from './float16';
import { SquaresKernel } from './squares-kernel';
import type { WireTensor } from './wire-tensor';

/** Σ x² of each tensor the receiving guard (or an earlier call) scanned, by its data view: a share is read for it once. */
const squaresSeen = new WeakMap<Uint8Array, number>();
/** made on first use: a process that never receives a float tensor assembles no module */
let squaresKernel: SquaresKernel | undefined;
/** one per arena that received tensors lie in: it reads them in place */
const arenaKernels = new WeakMap<WasmArena, SquaresKernel>();

function squaresKernelFor(data: Uint8Array): SquaresKernel {
  const arena = WasmArena.holding(data);
  if (!arena) return (squaresKernel ??= new SquaresKernel());
  let kernel = arenaKernels.get(arena);
  if (!kernel) arenaKernels.set(arena, (kernel = new SquaresKernel(arena)));
  return kernel;
}

/**
 * Σ x² over a float tensor's values, in float64: NaN or ∞ when a value is not finite (or a
 * square overflows). The guard of every received message takes it while checking that the
 * values are finite (one read serves both), so for a received tensor it is known already.
 */
export function squaresOf(t: WireTensor): number {
  const seen = squaresSeen.get(t.data);
  if (seen !== undefined) return seen;
  let s: number;
  if (t.dtype === 'float64' || t.dtype === 'float32') {
    s = squaresKernelFor(t.data).sumOfSquares(t.data, t.dtype === 'float64' ? 8 : 4);
  } else if (t.dtype === 'float16') {
    const v = float16Values(t.data);
    const lanes = new Float64Array(4);
    squares32(v, v.length, lanes);
    s = lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
  } else throw new TypeError('squaresOf: dtype is int32, expected a float dtype');
  squaresSeen.set(t.data, s);
  return s;
}

/** sum[i] += value i of a float tensor of sum.length values (float32/float16 widen exactly). */
export function addInto(sum: Float64Array, t: WireTensor): void {
  const { data } = t;
  const width = t.dtype === 'float64' ? 8 : t.dtype === 'float32' ? 4 : t.dtype === 'float16' ? 2 : 0;
  if (width === 0) throw new TypeError('addInto: dtype is int32, expected a float dtype');
  if (data.byteLength !== sum.length * width) throw new RangeError(`addInto: ${t.dtype} data of ${data.byteLength} bytes for a sum of ${sum.length} values`);
  const n = sum.length;
  if (width === 2) return add32(sum, float16Values(data), 0, n);
  if (data.byteOffset % width === 0) {
    if (width === 8) add64(sum, new Float64Array(data.buffer, data.byteOffset, n), 0, n);
    else add32(sum, new Float32Array(data.buffer, data.byteOffset, n), 0, n);
    return;
  }
  for (let first = 0; first < n; first += SCRATCH_VALUES) {
    const count = Math.min(SCRATCH_VALUES, n - first);
    loadScratch(data, width, first, count);
    if (width === 8) add64(sum, scratch64, first, count);
    else add32(sum, scratch32, first, count);
  }
}

function float16Values(data: Uint8Array): Float32Array {
  const n = data.byteLength >>> 1;
  if (data.byteOffset % 2 === 0) return float16BitsToFloat32(new Uint16Array(data.buffer, data.byteOffset, n));
  const bits = new Uint16Array(n);
  new Uint8Array(bits.buffer).set(data);
  return float16BitsToFloat32(bits);
}

// One loop per element type, each monomorphic. float16's squares go into four running sums as
// SquaresKernel's do (element i into sum i mod 4, the last n mod 4 into the first): one sum's
// chain of dependent adds held the loop to one add per ~2 ns.

function squares32(g: Float32Array, count: number, lanes: Float64Array): void {
  let a = lanes[0];
  let b = lanes[1];
  let c = lanes[2];
  let d = lanes[3];
  let i = 0;
  for (; i + 3 < count; i += 4) {
    a += g[i] * g[i];
    b += g[i + 1] * g[i + 1];
    c += g[i + 2] * g[i + 2];
    d += g[i + 3] * g[i + 3];
  }
  for (; i < count; i++) a += g[i] * g[i];
  lanes[0] = a;
  lanes[1] = b;
  lanes[2] = c;
  lanes[3] = d;
}

// sum[first + i] += g[i] for i < count
function add64(sum: Float64Array, g: Float64Array, first: number, count: number): void {
  for (let i = 0; i < count; i++) sum[first + i] += g[i];
}

function add32(sum: Float64Array, g: Float32Array, first: number, count: number): void {
  for (let i = 0; i < count; i++) sum[first + i] += g[i];
}
