import * as tf from '@tensorflow/tfjs';
import { adapterKey, orthogonalRegularizerGradient, type ModuleId, type SvdAdapter, type TrainableKey } from '@adalora/core';

/**
 * The orthogonal regulariser R of one optimizer step: its value and orth_reg_weight · ∂R/∂A,
 * ∂R/∂B, made from the adapters' A and B before the step. R depends on nothing else, so the
 * coordinator can compute it while the workers compute the task gradients (see
 * ClusterOptimizer.prepare). It remembers which tensors it was made from: tf's Variable.assign
 * gives a variable a new dataId, so `madeFrom` tells exactly whether A or B changed since. The
 * scaled gradient is kept as float32 values.
 */
export class OrthogonalGradient {
  private disposed = false;

  private constructor(
    /** the optimizer step it was made for */
    readonly step: number,
    /** R (0 when the run has no regulariser) */
    readonly value: number,
    /** orth_reg_weight · ∂R/∂θ by A and B key, as the float32 values of tf's product */
    private readonly scaled: Map<TrainableKey, Float32Array>,
    /** each A and B variable, and the tensor data it held then */
    private readonly sources: ReadonlyMap<tf.Variable, object>,
  ) {}

  /** No regulariser (LoRA mode, or orth_reg_weight 0): adds nothing, R = 0. */
  static none(step: number): OrthogonalGradient {
    return new OrthogonalGradient(step, 0, new Map(), new Map());
  }

  /**
   * R and weight · ∂R/∂θ for the adapters' current A and B: the bits of their tfjs autodiff
   * gradient (as peft's loss.backward() gives it) times weight, made without the tape
   * (orthogonalRegularizerGradient).
   */
  static compute(step: number, adapters: ReadonlyMap<ModuleId, SvdAdapter>, weight: number): OrthogonalGradient {
    const { value, grads } = orthogonalRegularizerGradient([...adapters.values()], weight);
    const scaled = new Map<TrainableKey, Float32Array>();
    const sources = new Map<tf.Variable, object>();
    [...adapters].forEach(([id, a], i) => {
      scaled.set(adapterKey(id, 'lora_A'), grads[i].A);
      scaled.set(adapterKey(id, 'lora_B'), grads[i].B);
      sources.set(a.A, a.A.dataId);
      sources.set(a.B, a.B.dataId);
    });
    return new OrthogonalGradient(step, value, scaled, sources);
  }

  /** True when every A and B it was made from still holds the same tensor data. */
  madeFrom(adapters: ReadonlyMap<ModuleId, SvdAdapter>): boolean {
    if (this.sources.size === 0) return true; // nothing regularised: nothing it depends on
    let count = 0;
    for (const a of adapters.values()) {
      for (const v of [a.A, a.B]) {
        if (this.sources.get(v) !== v.dataId) return false;
        count++;
      }
    }
    return count === this.sources.size;
  }

  /**
   * weight · ∂R/∂θ of an A or B by its key, as float32 values (shared: read them, never write
   * them); undefined for any other key. The caller adds it to the task gradient in float32, the
   * bits of tf's add of the two tensors.
   */
  scaledOf(key: TrainableKey): Float32Array | undefined {
    if (this.disposed) throw new Error('OrthogonalGradient: already disposed (a prepared gradient serves one apply)');
    return this.scaled.get(key);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.scaled.clear(); // the values are plain arrays: dropping them frees them
  }
}
