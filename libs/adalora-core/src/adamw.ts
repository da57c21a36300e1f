import * as tf from '@tensorflow/tfjs';

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
  m: tf.Tensor; // exp_avg
  v: tf.Tensor; // exp_avg_sq
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
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly slots = new Map<string, Slot>();

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
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`AdamW.step: lr must be a finite number >= 0, got ${lr}`);
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW.step: gradient for unknown parameter '${name}'`);
      if (g.shape.length !== p.shape.length || g.shape.some((n, i) => n !== p.shape[i])) {
        throw new Error(`AdamW.step: gradient of '${name}' has shape [${g.shape.join(', ')}], expected [${p.shape.join(', ')}]`);
      }
    }
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) continue;
      const slot = this.slots.get(name) ?? { step: 0, m: tf.zerosLike(p), v: tf.zerosLike(p) };
      this.slots.set(name, slot);
      slot.step += 1;
      const t = slot.step;
      // scalars in double, then used as float32 constants, as torch does with Python floats
      const stepSize = lr / (1 - this.beta1 ** t);
      const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
      const [m, v, next] = tf.tidy(() => {
        const decayed = this.weightDecay !== 0 ? p.mul(1 - lr * this.weightDecay) : p;
        const m = slot.m.add(g.sub(slot.m).mul(1 - this.beta1));
        const v = slot.v.mul(this.beta2).add(g.mul(g).mul(1 - this.beta2));
        const denom = v.sqrt().div(bc2Sqrt).add(this.eps);
        return [m, v, decayed.sub(m.div(denom).mul(stepSize))];
      });
      p.assign(next);
      tf.dispose([slot.m, slot.v, next]);
      slot.m = m;
      slot.v = v;
    }
  }

  /** A copy of the state as typed arrays. */
  exportState(): AdamWState {
    const params: Record<string, AdamWParamState> = {};
    for (const [name, s] of this.slots) {
      params[name] = { step: s.step, expAvg: Float32Array.from(s.m.dataSync()), expAvgSq: Float32Array.from(s.v.dataSync()) };
    }
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
      const shape = this.params.get(name)!.shape;
      this.slots.set(name, { step: s.step, m: tf.tensor(s.expAvg.slice(), shape, 'float32'), v: tf.tensor(s.expAvgSq.slice(), shape, 'float32') });
    }
  }

  /** Frees the moment tensors (the parameters are not the optimizer's). */
  dispose(): void {
    for (const s of this.slots.values()) tf.dispose([s.m, s.v]);
    this.slots.clear();
  }
}
