import * as tf from '@tensorflow/tfjs';
import type { ModuleId } from './module-id';
import { EmaKernel } from './ema-kernel';
import { readFloat32 } from './read-float32';

/** One module's A [r, in], E [r, 1], B [out, r]: tensors, or their float32 data in row-major order. */
export interface Triplet<T = tf.Tensor | Float32Array> {
  readonly A: T;
  readonly E: T;
  readonly B: T;
}

/** One module's importance state, as plain typed arrays (for checkpoints). */
export interface ModuleImportanceState {
  readonly rank: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** smoothed sensitivity ipt_bar of every element of A, E, B */
  readonly iptBar: Triplet<Float32Array>;
  /** smoothed uncertainty unc_bar of every element of A, E, B */
  readonly uncBar: Triplet<Float32Array>;
}

/** The tracker's whole state; a module is absent until its first update (its state is then 0). */
export interface ImportanceState {
  readonly modules: Readonly<Record<string, ModuleImportanceState>>;
}

interface ModuleState {
  inFeatures: number;
  outFeatures: number;
  ipt: Triplet<Float32Array>;
  unc: Triplet<Float32Array>;
  /** S per triplet, kept up to date by update (the element scores change only there) */
  scores: Float32Array;
}

interface Slot {
  readonly rank: number;
  state: ModuleState | null;
}

const PARTS = ['A', 'E', 'B'] as const;

/**
 * peft's sensitivity / uncertainty EMAs (`RankAllocator.update_ipt`) for every element of
 * every A, E, B, kept as float32 arrays and updated in one pass of a WebAssembly SIMD kernel
 * per tensor (EmaKernel) with every operation in float32 as torch computes it (so the state
 * matches peft's bit for bit):
 * ```
 * ipt = |w·g|;  ipt_bar = β1·ipt_bar + (1−β1)·ipt;  unc_bar = β2·unc_bar + (1−β2)·|ipt − ipt_bar|
 * ```
 * then one JS pass per module sums the new element scores per triplet; tensors are read as
 * wasm-heap views without copies. Why not tf ops: ~10 ops per tensor × 216 tensors of a
 * BERT-base adapter set took 2-3× longer on wasm than a JS pass (tools/bench-allocator.ts
 * prints both), and the kernel is faster than that JS pass again.
 */
export class ImportanceTracker {
  private readonly slots = new Map<ModuleId, Slot>();
  private readonly ema = new EmaKernel();
  // torch multiplies a float32 tensor by a Python float cast to float32
  private readonly b1: number;
  private readonly c1: number;
  private readonly b2: number;
  private readonly c2: number;

  constructor(
    modules: ReadonlyMap<ModuleId, { readonly rank: number }>,
    readonly beta1: number,
    readonly beta2: number,
  ) {
    for (const [id, { rank }] of modules) {
      if (!Number.isInteger(rank) || rank < 0) throw new Error(`ImportanceTracker: module '${id}' has rank ${rank}, expected an integer >= 0`);
      this.slots.set(id, { rank, state: null });
    }
    this.b1 = Math.fround(beta1);
    this.c1 = Math.fround(1 - beta1);
    this.b2 = Math.fround(beta2);
    this.c2 = Math.fround(1 - beta2);
  }

  /** The modules tracked, in the order given. */
  get modules(): readonly ModuleId[] {
    return [...this.slots.keys()];
  }

  /**
   * One EMA step for every module, with `weights` the values after the optimizer step and
   * `grads` the gradient that step used (peft multiplies the two).
   */
  update(weights: ReadonlyMap<ModuleId, Triplet>, grads: ReadonlyMap<ModuleId, Triplet>): void {
    // check every input first, so a refused update leaves the state as it was
    const work: { slot: Slot; id: ModuleId; w: Triplet; g: Triplet; inF: number; outF: number }[] = [];
    for (const [id, slot] of this.slots) {
      const w = weights.get(id);
      const g = grads.get(id);
      if (!w || !g) throw new Error(`ImportanceTracker.update: no ${w ? 'gradient' : 'weights'} for module '${id}'`);
      const [inF, outF] = slot.state ? [slot.state.inFeatures, slot.state.outFeatures] : features(id, slot.rank, w);
      const shapes = { A: [slot.rank, inF], E: [slot.rank, 1], B: [outF, slot.rank] };
      for (const p of PARTS) {
        check(id, `lora_${p}`, w[p], shapes[p]);
        check(id, `lora_${p} gradient`, g[p], shapes[p]);
      }
      work.push({ slot, id, w, g, inF, outF });
    }
    const [b1, c1, b2, c2] = [this.b1, this.c1, this.b2, this.c2];
    for (const { slot, w, g, inF, outF } of work) {
      const st = (slot.state ??= newState(slot.rank, inF, outF));
      // read right before use: wasm heap views stay valid while no tf op runs
      for (const p of PARTS) this.ema.run(data(w[p]), data(g[p]), st.ipt[p], st.unc[p], b1, c1, b2, c2);
      rescore(st, slot.rank);
    }
  }

  /**
   * S_i = score(E_i) + mean_j score(A[i, j]) + mean_j score(B[j, i]) per module, with
   * score = ipt_bar · unc_bar (peft `_element_score` / `_combine_ipt`). 0 before any update.
   */
  tripletScores(): Map<ModuleId, Float32Array> {
    const out = new Map<ModuleId, Float32Array>();
    for (const [id, slot] of this.slots) out.set(id, slot.state ? slot.state.scores.slice() : new Float32Array(slot.rank));
    return out;
  }

  /** Back to the initial state (all zero), as peft's `reset_ipt`. */
  reset(): void {
    for (const slot of this.slots.values()) slot.state = null;
  }

  /** A copy of the state, as plain typed arrays. */
  exportState(): ImportanceState {
    const modules: Record<string, ModuleImportanceState> = {};
    for (const [id, slot] of this.slots) {
      const st = slot.state;
      if (!st) continue;
      const copy = (t: Triplet<Float32Array>) => ({ A: t.A.slice(), E: t.E.slice(), B: t.B.slice() });
      modules[id] = { rank: slot.rank, inFeatures: st.inFeatures, outFeatures: st.outFeatures, iptBar: copy(st.ipt), uncBar: copy(st.unc) };
    }
    return { modules };
  }

  /** Replaces the state by a copy of an exported one (validated: ids, ranks and lengths). */
  importState(state: ImportanceState): void {
    const next = new Map<ModuleId, Slot['state']>();
    for (const [id, m] of Object.entries(state.modules)) {
      const slot = this.slots.get(id as ModuleId);
      if (!slot) throw new Error(`ImportanceTracker.importState: unknown module '${id}'`);
      if (m.rank !== slot.rank) throw new Error(`ImportanceTracker.importState: module '${id}' has rank ${m.rank}, expected ${slot.rank}`);
      const sizes = { A: slot.rank * m.inFeatures, E: slot.rank, B: m.outFeatures * slot.rank };
      for (const which of ['iptBar', 'uncBar'] as const) {
        for (const p of PARTS) {
          const arr = m[which][p];
          if (!(arr instanceof Float32Array) || arr.length !== sizes[p]) {
            throw new Error(`ImportanceTracker.importState: '${id}' ${which}.${p} must be a Float32Array of ${sizes[p]} values`);
          }
        }
      }
      const copy = (t: Triplet<Float32Array>) => ({ A: t.A.slice(), E: t.E.slice(), B: t.B.slice() });
      const st: ModuleState = { inFeatures: m.inFeatures, outFeatures: m.outFeatures, ipt: copy(m.iptBar), unc: copy(m.uncBar), scores: new Float32Array(slot.rank) };
      rescore(st, slot.rank);
      next.set(id as ModuleId, st);
    }
    for (const [id, slot] of this.slots) slot.state = next.get(id) ?? null;
  }
}

// in and out features of a module seen for the first time, from its weights
function features(id: ModuleId, r: number, w: Triplet): [number, number] {
  const size = (x: tf.Tensor | Float32Array) => (x instanceof Float32Array ? x.length : x.size);
  const inF = w.A instanceof tf.Tensor ? w.A.shape[1] : r > 0 ? w.A.length / r : 0;
  const outF = w.B instanceof tf.Tensor ? w.B.shape[0] : r > 0 ? w.B.length / r : 0;
  if (inF === undefined || outF === undefined || !Number.isInteger(inF) || !Number.isInteger(outF)) {
    throw new Error(`ImportanceTracker.update: module '${id}' lora_A (${size(w.A)} values) / lora_B (${size(w.B)} values) do not fit rank ${r}`);
  }
  return [inF, outF];
}

function newState(r: number, inF: number, outF: number): ModuleState {
  const zeros = () => ({ A: new Float32Array(r * inF), E: new Float32Array(r), B: new Float32Array(outF * r) });
  return { inFeatures: inF, outFeatures: outF, ipt: zeros(), unc: zeros(), scores: new Float32Array(r) };
}

function data(x: tf.Tensor | Float32Array): Float32Array {
  return x instanceof Float32Array ? x : readFloat32(x);
}

function check(id: ModuleId, what: string, x: tf.Tensor | Float32Array, shape: number[]): void {
  const n = shape[0] * shape[1];
  if (x instanceof tf.Tensor && x.dtype !== 'float32') throw new Error(`ImportanceTracker.update: module '${id}' ${what} has dtype ${x.dtype}, expected float32`);
  const ok = x instanceof tf.Tensor ? x.size === n && x.shape[0] === shape[0] : x.length === n;
  if (!ok) {
    const got = x instanceof tf.Tensor ? `shape [${x.shape.join(', ')}]` : `${x.length} values`;
    throw new Error(`ImportanceTracker.update: module '${id}' ${what} has ${got}, expected [${shape.join(', ')}]`);
  }
}

// S_i = score(E_i) + mean_j score(A[i, j]) + mean_o score(B[o, i]); means from float64 sums,
// rounded like torch's float32 mean, the additions in float32 as peft's `_combine_ipt`.
function combine(valE: Float64Array, rowA: Float64Array, colB: Float64Array, inF: number, outF: number, out: Float32Array): void {
  const f = Math.fround;
  for (let i = 0; i < out.length; i++) {
    const meanA = inF > 0 ? f(rowA[i] / inF) : 0;
    const meanB = outF > 0 ? f(colB[i] / outF) : 0;
    out[i] = f(valE[i]) + f(meanA + meanB); // the store rounds the sum to float32
  }
}

// the triplet scores from the state: Σ of exact float64 products ipt_bar·unc_bar in row-major
// order (torch's float32 mean differs by an ulp or so), then combine
function rescore(st: ModuleState, r: number): void {
  const { ipt, unc, inFeatures: inF, outFeatures: outF } = st;
  const rowA = new Float64Array(r); // Σ_j score(A[i, j])
  const valE = new Float64Array(r); // score(E_i)
  const colB = new Float64Array(r); // Σ_o score(B[o, i])
  const [a, ua, e, ue, b, ub] = [ipt.A, unc.A, ipt.E, unc.E, ipt.B, unc.B];
  for (let i = 0, k = 0; i < r; i++) {
    let sum = 0;
    for (let j = 0; j < inF; j++, k++) sum += a[k] * ua[k];
    rowA[i] = sum;
    valE[i] = e[i] * ue[i];
  }
  for (let o = 0, k = 0; o < outF; o++) for (let i = 0; i < r; i++, k++) colB[i] += b[k] * ub[k];
  combine(valE, rowA, colB, inF, outF, st.scores);
}
