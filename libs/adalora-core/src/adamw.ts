import * as tf from '@tensorflow/tfjs';
import { AdamWKernel, type AdamWConstants, type MomentsHandle } from './adamw-kernel';
import { readFloat32 } from './read-float32';

/** torch.optim.AdamW's hyper-parameters (lr is given per step). */
export interface AdamWOptions {
  /** default 0.9 */
  readonly beta1?: number;
  /** default 0.999 */
  readonly beta2?: number;
  /** default 1e-8, added after the square root of the bias-corrected second moment */
  readonly eps?: number;
  /** decoupled weight decay; default 0.01 */
  readonly weightDecay?: number;
}

/** One parameter's optimizer state, as plain typed arrays (for checkpoints). */
export interface AdamWParamState {
  /** number of updates this parameter received (torch's per-parameter `step`) */
  readonly step: number;
  readonly expAvg: Float32Array;
  readonly expAvgSq: Float32Array;
}

/** The optimizer's state by parameter name; a parameter is absent until its first update. */
export interface AdamWState {
  readonly params: Readonly<Record<string, AdamWParamState>>;
}

interface Slot {
  step: number;
  /** exp_avg and exp_avg_sq, in the kernel's memory */
  moments: MomentsHandle;
}

/**
 * torch.optim.AdamW (amsgrad off), as torch's single-tensor implementation does it, per parameter:
 * ```
 * p ← p · (1 − lr·wd)                                  # decoupled weight decay
 * m ← m + (1 − β1)·(g − m)                             # exp_avg.lerp_(g, 1 − β1)
 * v ← β2·v + (1 − β2)·g²
 * p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)
 * ```
 * A parameter without a gradient in a step is skipped (state and step count unchanged), as in torch.
 *
 * The moments are float32 values in the kernel's memory, and each parameter is updated in one
 * pass of a small WebAssembly SIMD kernel (AdamWKernel) doing float32 operations in the order and
 * with the float32 constants of the tf ops it replaced, so the bits are those of tfjs's cpu and
 * wasm kernels (adamw.test.ts compares them); its time is a fraction of ~10 tf ops per parameter
 * (`npm run bench:adamw`).
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly slots = new Map<string, Slot>();
  private readonly kernel = new AdamWKernel();

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    opts: AdamWOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    for (const [k, b] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`AdamW: ${k} must be in [0, 1), got ${b}`);
    }
    if (!(this.eps >= 0)) throw new Error(`AdamW: eps must be >= 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new Error(`AdamW: weightDecay must be >= 0, got ${this.weightDecay}`);
  }

  /** One update of every parameter that has a gradient in `grads` (same name, same shape). */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    checkLr(lr);
    for (const [name, g] of grads) {
      const p = this.param(name);
      if (g.shape.length !== p.shape.length || g.shape.some((n, i) => n !== p.shape[i])) {
        throw new Error(`AdamW.step: gradient of '${name}' has shape [${g.shape.join(', ')}], expected [${p.shape.join(', ')}]`);
      }
    }
    // copies: a wasm heap view would not survive the parameters' writes
    this.stepFloat32(new Map([...grads].map(([name, g]) => [name, g.dtype === 'float32' ? (g.dataSync() as Float32Array) : Float32Array.from(g.dataSync())])), lr);
  }

  /**
   * step() with the gradients as float32 values in the parameters' row-major order. Returns the
   * new values of the parameters it updated: fresh arrays holding what the variables now hold,
   * which the caller may keep but must not write (the cpu backend's tensors share them).
   */
  stepFloat32(grads: ReadonlyMap<string, Float32Array>, lr: number): Map<string, Float32Array> {
    checkLr(lr);
    for (const [name, g] of grads) {
      const p = this.param(name);
      if (!(g instanceof Float32Array) || g.length !== p.size) {
        throw new Error(`AdamW.step: gradient of '${name}' must be a Float32Array of ${p.size} values (shape [${p.shape.join(', ')}]), got ${describe(g)}`);
      }
    }
    const f = Math.fround;
    // the constants as float32, as tf makes a scalar operand of a JS number
    const decay = this.weightDecay !== 0 ? f(1 - lr * this.weightDecay) : 1; // p · 1 = p exactly: no decay
    const [c1, b2, c2, eps] = [f(1 - this.beta1), f(this.beta2), f(1 - this.beta2), f(this.eps)];
    const out = new Map<string, Float32Array>();
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) continue;
      let slot = this.slots.get(name);
      if (!slot) {
        slot = { step: 0, moments: this.kernel.allocate(p.size) };
        this.slots.set(name, slot);
      }
      slot.step += 1;
      const t = slot.step;
      // scalars in double, then used as float32 constants, as torch does with Python floats
      const c: AdamWConstants = { decay, c1, b2, c2, eps, stepSize: f(lr / (1 - this.beta1 ** t)), bc2Sqrt: f(Math.sqrt(1 - this.beta2 ** t)) };
      const next = new Float32Array(p.size);
      // p as a wasm heap view, read before the next tf op (the assign below) may move that heap
      this.kernel.run(readFloat32(p), g, slot.moments, next, c);
      const written = tf.tensor(next, p.shape, 'float32');
      p.assign(written);
      written.dispose();
      out.set(name, next);
    }
    return out;
  }

  /** A copy of the state as typed arrays. */
  exportState(): AdamWState {
    const params: Record<string, AdamWParamState> = {};
    for (const [name, s] of this.slots) params[name] = { step: s.step, expAvg: this.kernel.view(s.moments, 'm').slice(), expAvgSq: this.kernel.view(s.moments, 'v').slice() };
    return { params };
  }

  /** Replaces the state by an exported one (validated: names, sizes, step counts). */
  importState(state: AdamWState): void {
    for (const [name, s] of Object.entries(state.params)) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW.importState: unknown parameter '${name}'`);
      if (!Number.isInteger(s.step) || s.step < 1) throw new Error(`AdamW.importState: '${name}' step must be an integer >= 1, got ${s.step}`);
      for (const k of ['expAvg', 'expAvgSq'] as const) {
        if (!(s[k] instanceof Float32Array) || s[k].length !== p.size) {
          throw new Error(`AdamW.importState: '${name}' ${k} must be a Float32Array of ${p.size} values`);
        }
      }
    }
    this.dispose();
    for (const [name, s] of Object.entries(state.params)) {
      const moments = this.kernel.allocate(s.expAvg.length);
      this.kernel.view(moments, 'm').set(s.expAvg);
      this.kernel.view(moments, 'v').set(s.expAvgSq);
      this.slots.set(name, { step: s.step, moments });
    }
  }

  /** Drops the moments (the parameters are not the optimizer's); the kernel's memory is reused, not returned. */
  dispose(): void {
    this.slots.clear();
    this.kernel.reset();
  }

  private param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new Error(`AdamW.step: gradient for unknown parameter '${name}'`);
    return p;
  }
}

function checkLr(lr: number): void {
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`AdamW.step: lr must be a finite number >= 0, got ${lr}`);
}

function describe(x: unknown): string {
  return ArrayBuffer.isView(x) ? `${x.constructor.name} of ${(x as unknown as ArrayLike<number>).length} values` : typeof x;
}
