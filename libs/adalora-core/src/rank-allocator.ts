import * as tf from '@tensorflow/tfjs';
import { budgetSchedule } from './budget-schedule';
import type { AdaLoraConfig } from '@adalora/config';
import { ImportanceTracker, type ImportanceState, type Triplet } from './importance-tracker';
import type { ModuleId } from './module-id';
import { tripletMask } from './triplet-mask';

/** What the allocator decided at one optimizer step; the same decision is applied on every worker. */
export interface AllocationDecision {
  /** the budget schedule's budget at this step (total triplets to keep) */
  readonly budget: number;
  /** whether E values must be zeroed this step (`keep` is then non-null) */
  readonly maskApplied: boolean;
  /** per module, one flag per triplet, true = keep; zero the other E (see applyKeepMask). null = no masking */
  readonly keep: ReadonlyMap<ModuleId, readonly boolean[]> | null;
  /** true from step T − tfinal on: the rank pattern is frozen */
  readonly final: boolean;
}

/** The allocator's state for checkpoints: plain objects and typed arrays. */
export interface RankAllocatorState {
  readonly importance: ImportanceState;
  /** the last pattern applied (peft's `rank_pattern`), by module id */
  readonly rankPattern: Readonly<Record<string, readonly boolean[]>> | null;
  /** whether `rankPattern` is the frozen final one */
  readonly frozen: boolean;
}

/**
 * peft's `AdaLoraModel.update_and_allocate(step)` as a function of the global state only
 * (no model): call it once per optimizer step with the weights after the step and the mean
 * gradient that step used; apply the returned `keep` to every replica.
 * - step < T − tfinal: update the importance, then mask to the schedule's budget when it says so;
 * - step = T − tfinal: no importance update; mask to the target budget, freeze that pattern,
 *   reset the importance;
 * - step > T − tfinal: re-apply the frozen pattern.
 * LoRA mode has no allocation: the caller skips the allocator (the constructor refuses it).
 */
export class RankAllocator {
  /** Σ init ranks (peft `init_bgt`) */
  readonly initBudget: number;
  /** targetR × #modules (peft `target_bgt`) */
  readonly targetBudget: number;
  private readonly tracker: ImportanceTracker;
  private readonly ranks: ReadonlyMap<ModuleId, number>;
  private pattern: Map<ModuleId, boolean[]> | null = null;
  private frozen = false;

  constructor(
    private readonly cfg: AdaLoraConfig,
    modules: ReadonlyMap<ModuleId, { readonly rank: number }>,
  ) {
    if (cfg.mode !== 'adalora') throw new Error(`RankAllocator: config mode is '${cfg.mode}'; only AdaLoRA allocates ranks (skip the allocator for LoRA)`);
    if (modules.size === 0) throw new Error('RankAllocator: no modules to allocate ranks over');
    this.tracker = new ImportanceTracker(modules, cfg.beta1, cfg.beta2);
    this.ranks = new Map([...modules].map(([id, m]) => [id, m.rank]));
    this.initBudget = [...modules.values()].reduce((s, m) => s + m.rank, 0);
    this.targetBudget = cfg.targetR * modules.size;
  }

  /** The modules allocated over, in order. */
  get modules(): readonly ModuleId[] {
    return this.tracker.modules;
  }

  /** One step of peft's `update_and_allocate` (see the class comment). */
  updateAndAllocate(step: number, weights: ReadonlyMap<ModuleId, Triplet>, grads: ReadonlyMap<ModuleId, Triplet>): AllocationDecision {
    const { budget, mask } = budgetSchedule(step, this.cfg, this.initBudget, this.targetBudget);
    const finalStep = this.cfg.totalStep - this.cfg.tfinal;
    if (step < finalStep) {
      this.tracker.update(weights, grads);
      if (!mask) return { budget, maskApplied: false, keep: null, final: false };
      this.pattern = this.maskToBudget(budget);
      this.frozen = false;
      return { budget, maskApplied: true, keep: this.pattern, final: false };
    }
    if (step === finalStep) {
      this.pattern = this.maskToBudget(budget); // budget = target here
      this.frozen = true;
      this.tracker.reset();
      return { budget, maskApplied: true, keep: this.pattern, final: true };
    }
    if (!this.frozen || !this.pattern) {
      throw new Error(`RankAllocator: step ${step} is after T - tfinal = ${finalStep} but no final rank pattern was frozen (run step ${finalStep} or import a state)`);
    }
    return { budget, maskApplied: true, keep: this.pattern, final: true };
  }

  /** The last applied pattern (the frozen one from T − tfinal on); null before any masking. */
  rankPattern(): ReadonlyMap<ModuleId, readonly boolean[]> | null {
    return this.pattern;
  }

  /** The importance scores S per module, as they stand (for logs and tests). */
  tripletScores(): Map<ModuleId, Float32Array> {
    return this.tracker.tripletScores();
  }

  exportState(): RankAllocatorState {
    return {
      importance: this.tracker.exportState(),
      rankPattern: this.pattern ? Object.fromEntries([...this.pattern].map(([id, k]) => [id, [...k]])) : null,
      frozen: this.frozen,
    };
  }

  /** Restores an exported state (validated against this allocator's modules). */
  importState(state: RankAllocatorState): void {
    let pattern: Map<ModuleId, boolean[]> | null = null;
    if (state.rankPattern) {
      pattern = new Map();
      for (const [id, rank] of this.ranks) {
        const k = state.rankPattern[id];
        if (!Array.isArray(k) || k.length !== rank || k.some((b) => typeof b !== 'boolean')) {
          throw new Error(`RankAllocator.importState: rankPattern of '${id}' must be ${rank} booleans`);
        }
        pattern.set(id, [...k]);
      }
    } else if (state.frozen) {
      throw new Error('RankAllocator.importState: frozen is true but rankPattern is null');
    }
    this.tracker.importState(state.importance);
    this.pattern = pattern;
    this.frozen = state.frozen;
  }

  private maskToBudget(budget: number): Map<ModuleId, boolean[]> {
    return tripletMask(this.tracker.tripletScores(), this.initBudget - budget);
  }
}

/**
 * Zeroes, in place, the singular values E [r, 1] whose flag is false (peft `masked_fill_`).
 * The masked values keep training and may grow back until the next masking step.
 */
export function applyKeepMask(E: tf.Variable, keep: readonly boolean[]): void {
  if (E.shape[0] !== keep.length) throw new Error(`applyKeepMask: ${keep.length} flags for E of shape [${E.shape.join(', ')}]`);
  if (keep.every((k) => k)) return;
  tf.tidy(() => {
    const m = tf.tensor(keep.map((k) => (k ? 1 : 0)), [keep.length, ...E.shape.slice(1)], 'bool');
    E.assign(tf.where(m, E, tf.zerosLike(E)));
  });
}
