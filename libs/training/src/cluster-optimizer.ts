import type { AdaLoraConfig } from '@adalora/config';
import {
  adapterKey,
  AdamW,
  applyKeepMask,
  checkTensorSet,
  MeanKernel,
  RankAllocator,
  readFloat32,
  SvdAdapter,
  type AdamWState,
  type AllocationDecision,
  type RankAllocatorState,
  type ModuleId,
  type TrainableKey,
  type Triplet,
} from '@adalora/core';
import type { InjectedAdapters } from '@adalora/models';
import type { GradientSums } from './gradient-sums';
import { learningRate, type LrSchedule } from './lr-schedule';
import { OrthogonalGradient } from './orthogonal-gradient';

/** torch.optim.AdamW's knobs. */
export interface OptimizerConfig {
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly schedule: LrSchedule;
}

/** Everything besides the trainables that a resumed run needs. */
export interface ClusterOptimizerState {
  readonly step: number;
  readonly adamw: AdamWState;
  readonly allocator: RankAllocatorState | null;
}

/** What one global optimizer step did. */
export interface StepReport {
  readonly step: number;
  readonly samples: number;
  /** task loss (mean over the global batch) + orth_reg_weight · R, before the update */
  readonly loss: number;
  readonly lr: number;
  readonly budget: number | null;
  readonly maskApplied: boolean;
  /** non-zero singular values per adapted module after the step (AdaLoRA only) */
  readonly kept: ReadonlyMap<ModuleId, number>;
  /**
   * where the step's time went, in ms: the mean of the shares (with the regulariser's gradient
   * added), AdamW (plus making the regulariser's gradient when apply() was not given it
   * prepared), the rank allocation
   */
  readonly phaseMs: { readonly mean: number; readonly optimizer: number; readonly allocation: number };
}

/**
 * The optimizer step of the whole cluster, made once: the global mean gradient from the
 * workers' sums, plus the orthogonal regulariser's gradient, then AdamW, then the rank
 * allocation (peft's `update_and_allocate(step)`). Its state is the state every worker loads.
 * The step works on float32 arrays, in WebAssembly SIMD kernels that give the bits of the tf ops
 * they replaced (MeanKernel, AdamW.stepFloat32, the ImportanceTracker's EMA): no tensor but the
 * trainables' new values, written once per step.
 */
export class ClusterOptimizer {
  private readonly adamw: AdamW;
  private readonly allocator: RankAllocator | null;
  private stepIndex = 0;
  /** the regulariser gradients prepare() made: apply() takes no other */
  private readonly issued = new WeakSet<OrthogonalGradient>();
  /** each trainable's values as last written or read, and the tensor data they are of (see snapshot) */
  private readonly known = new Map<TrainableKey, { readonly dataId: object; readonly values: Float32Array }>();
  private readonly meanKernel = new MeanKernel();

  constructor(
    private readonly injected: InjectedAdapters,
    private readonly adalora: AdaLoraConfig,
    private readonly optim: OptimizerConfig,
  ) {
    this.adamw = new AdamW(injected.trainables, { beta1: optim.beta1, beta2: optim.beta2, eps: optim.eps, weightDecay: optim.weightDecay });
    const ranks = new Map([...injected.adapters].map(([id, a]) => [id, { rank: a.rank }]));
    this.allocator = adalora.mode === 'adalora' ? new RankAllocator(adalora, ranks) : null;
  }

  get step(): number {
    return this.stepIndex;
  }

  /**
   * The orthogonal regulariser's value and gradient for the coming step. They depend only on
   * the adapters before the step, so the coordinator makes them while the workers compute and
   * hands them to apply(); the bits are those apply() computes by itself. The caller owns the
   * result until it passes it to apply() (or disposes it).
   */
  prepare(): OrthogonalGradient {
    const w = this.adalora.orthRegWeight;
    const prepared = this.adalora.mode !== 'adalora' || w === 0 ? OrthogonalGradient.none(this.stepIndex) : OrthogonalGradient.compute(this.stepIndex, this.svdAdapters(), w);
    this.issued.add(prepared);
    return prepared;
  }

  /**
   * Applies one optimizer step from the workers' gradient sums of the same global batch.
   * `prepared` (from prepare(), consumed here) must be of this step and of the adapters as
   * they are; without it the regulariser's gradient is computed here.
   */
  apply(shares: readonly GradientSums[], prepared?: OrthogonalGradient): StepReport {
    let orth: OrthogonalGradient | undefined = prepared;
    try {
      if (prepared) this.checkPrepared(prepared);
      const samples = shares.reduce((n, s) => n + s.count, 0);
      if (samples === 0) throw new Error('ClusterOptimizer.apply: the global batch has no samples');
      const step = this.stepIndex;
      const lr = learningRate(step, this.optim.schedule);
      let decision: AllocationDecision | null = null;
      // the regulariser's gradient, unless prepared while the workers computed: optimizer time
      const regularising = performance.now();
      orth ??= this.prepare();
      const started = performance.now();
      const grads = this.meanGradients(shares, samples, orth);
      const meaned = performance.now();
      const written = this.adamw.stepFloat32(grads, lr);
      this.remember(written);
      const optimized = performance.now();
      if (this.allocator) {
        // the values just written stand for the trainables: the same bits, no read-back
        decision = this.allocator.updateAndAllocate(step, this.tripletsOf(written), this.tripletsOf(grads));
        if (decision.keep) {
          for (const [id, keep] of decision.keep) applyKeepMask(this.svd(id).E, keep);
        }
      }
      this.stepIndex++;
      const lossSum = shares.reduce((s, x) => s + x.lossSum, 0);
      const kept = this.keptCounts();
      return {
        step,
        samples,
        loss: lossSum / samples + this.adalora.orthRegWeight * orth.value,
        lr,
        budget: decision?.budget ?? null,
        maskApplied: decision?.maskApplied ?? false,
        kept,
        phaseMs: { mean: meaned - started, optimizer: optimized - meaned + (started - regularising), allocation: performance.now() - optimized },
      };
    } finally {
      orth?.dispose();
    }
  }

  // a prepared gradient of another step, or of A and B since replaced, would silently change the update
  private checkPrepared(prepared: OrthogonalGradient): void {
    if (!this.issued.has(prepared)) throw new Error('ClusterOptimizer.apply: the prepared regulariser gradient was made by another optimizer');
    if (prepared.isDisposed) throw new Error('ClusterOptimizer.apply: the prepared regulariser gradient was already used or disposed');
    if (prepared.step !== this.stepIndex) throw new Error(`ClusterOptimizer.apply: the prepared regulariser gradient is of step ${prepared.step}, this is step ${this.stepIndex}`);
    if (!prepared.madeFrom(this.svdAdapters())) throw new Error('ClusterOptimizer.apply: the adapters changed since the regulariser gradient was prepared; prepare() again');
  }

  /** AdaLoRA's current rank pattern (peft `rank_pattern`), null before the first masking or in LoRA mode. */
  rankPattern(): ReadonlyMap<ModuleId, readonly boolean[]> | null {
    return this.allocator?.rankPattern() ?? null;
  }

  /** Optimizer, allocator and step counter, as plain data for a checkpoint. */
  exportState(): ClusterOptimizerState {
    return { step: this.stepIndex, adamw: this.adamw.exportState(), allocator: this.allocator?.exportState() ?? null };
  }

  /** Restores a state written by exportState (the trainables are restored separately). */
  importState(state: ClusterOptimizerState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`trainer state: step must be an integer >= 0, got ${state.step}`);
    if ((state.allocator === null) !== (this.allocator === null)) {
      throw new Error(`trainer state: ${state.allocator ? 'has' : 'lacks'} rank-allocator state, but this run is in ${this.adalora.mode} mode`);
    }
    this.adamw.importState(state.adamw);
    if (state.allocator && this.allocator) this.allocator.importState(state.allocator);
    this.stepIndex = state.step;
  }

  /**
   * Every trainable tensor's current value, by key: what workers load after a step. Values the
   * optimizer wrote are handed out as they are, without a copy or a read-back: the arrays are
   * shared with later snapshots while the tensor keeps those values, so read them, never write
   * them. A trainable changed by anything else (a rank mask, a restore) is read again.
   */
  snapshot(): Map<TrainableKey, Float32Array> {
    const out = new Map<TrainableKey, Float32Array>();
    for (const [name, v] of this.injected.trainables) {
      let known = this.known.get(name);
      // Variable.assign gives a variable a new dataId: the same one means the same values
      if (known?.dataId !== v.dataId) {
        known = { dataId: v.dataId, values: readFloat32(v).slice() };
        this.known.set(name, known);
      }
      out.set(name, known.values);
    }
    return out;
  }

  // the values AdamW just wrote into the trainables (fresh arrays no one writes)
  private remember(written: ReadonlyMap<string, Float32Array>): void {
    const trainables = this.injected.trainables; // a getter that builds the map: once
    for (const [name, values] of written) {
      const v = trainables.get(name as TrainableKey)!;
      this.known.set(name as TrainableKey, { dataId: v.dataId, values });
    }
  }

  /**
   * Σ shares / samples in float32, plus the regulariser's gradient in float32 (A and B), by
   * trainable key: what AdamW and the allocator take.
   */
  private meanGradients(shares: readonly GradientSums[], samples: number, orth: OrthogonalGradient): Map<TrainableKey, Float32Array> {
    const trainables = this.injected.trainables;
    const checked = shares.map((share, i) =>
      checkTensorSet(trainables, [...share.grads].map(([name, values]) => ({ name, size: values.length, values })), `ClusterOptimizer.apply: gradients of share ${i + 1} of ${shares.length}`),
    );
    const out = new Map<TrainableKey, Float32Array>();
    for (const [name, v] of trainables) {
      let sum: Float64Array;
      if (checked.length === 1) {
        sum = checked[0].get(name)!.values; // one share (the coordinator's running sum): no second sum
      } else {
        // float64: exact partial sums add up to the same bits in any grouping
        const total = new Float64Array(v.size);
        for (const share of checked) {
          const g = share.get(name)!.values;
          for (let i = 0; i < g.length; i++) total[i] += g[i];
        }
        sum = total;
      }
      // float32((0 + sum) / samples) [+ the regulariser's gradient in float32]: the bits of
      // the float64 sum's mean made a float32 tensor, plus tf's add of the two
      const mean = new Float32Array(v.size);
      this.meanKernel.run(sum, samples, orth.scaledOf(name), mean);
      out.set(name, mean);
    }
    return out;
  }

  private svdAdapters(): Map<ModuleId, SvdAdapter> {
    return this.adalora.mode === 'adalora' ? new Map([...this.injected.adapters].map(([id, a]) => [id, a as SvdAdapter])) : new Map();
  }

  // A, E, B values of every module (each array in the tensor's row-major order)
  private tripletsOf(values: ReadonlyMap<string, Float32Array>): Map<ModuleId, Triplet<Float32Array>> {
    const out = new Map<ModuleId, Triplet<Float32Array>>();
    for (const id of this.injected.adapters.keys()) {
      const get = (key: TrainableKey) => {
        const x = values.get(key);
        if (!x) throw new Error(`ClusterOptimizer.apply: no values of ${key}`);
        return x;
      };
      out.set(id, { A: get(adapterKey(id, 'lora_A')), E: get(adapterKey(id, 'lora_E')), B: get(adapterKey(id, 'lora_B')) });
    }
    return out;
  }

  private svd(id: ModuleId): SvdAdapter {
    return this.injected.adapters.get(id) as SvdAdapter;
  }

  private keptCounts(): Map<ModuleId, number> {
    const out = new Map<ModuleId, number>();
    if (this.adalora.mode !== 'adalora') return out;
    for (const id of this.injected.adapters.keys()) {
      const e = readFloat32(this.svd(id).E); // a view on wasm: no copy, no tf op while it is read
      let n = 0;
      for (let i = 0; i < e.length; i++) if (e[i] !== 0) n++;
      out.set(id, n);
    }
    return out;
  }
}
