// Replays the rank allocator alone through peft's recorded run (fixtures/traces/public-bert):
// from the recorded weights after each optimizer step and the gradients it used, it must
// reproduce peft's importance state, budgets, mask steps and the singular values it zeroed.
import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fixturePath, loadPublicBertTrace } from '@adalora/test-support';
import { budgetSchedule } from './budget-schedule';
import type { Triplet } from './importance-tracker';
import { moduleId, type ModuleId } from './module-id';
import { applyKeepMask, RankAllocator } from './rank-allocator';

interface TraceRecord {
  step: number;
  budget: number;
  mask_ind: boolean;
  E_after: Record<string, number[]>;
  params?: Record<string, number[]>;
  grads?: Record<string, number[]>;
  exp_avg_ipt?: Record<string, number[]>;
  exp_avg_unc?: Record<string, number[]>;
}
interface Trace {
  meta: { steps: number; adalora: Record<string, number> };
  trace: TraceRecord[];
}

const tracePath = fixturePath('traces', 'public-bert', 'trace.json');
const { trace } = JSON.parse(readFileSync(tracePath, 'utf8')) as Trace;
// peft's config of the run, read by the one trace loader
const cfg = loadPublicBertTrace().adalora;
const PREFIX = 'base_model.model.';
const SUFFIX = '.lora_E.default';
// module ids in peft's order, from the E keys
const ids: ModuleId[] = Object.keys(trace[0].E_after).map((k) => moduleId(k.slice(PREFIX.length, -SUFFIX.length)));
const recorded = trace.filter((r) => r.params && r.grads);

// flat arrays -> shapes from init_r (A [r, in], E [r, 1], B [out, r])
function triplets(values: Record<string, number[]>, asTensors: boolean): Map<ModuleId, Triplet> {
  const r = cfg.initR;
  const out = new Map<ModuleId, Triplet>();
  for (const id of ids) {
    const get = (p: string) => Float32Array.from(values[`${PREFIX}${id}.${p}.default`]);
    const [A, E, B] = [get('lora_A'), get('lora_E'), get('lora_B')];
    out.set(
      id,
      asTensors ? { A: tf.tensor2d(A, [r, A.length / r]), E: tf.tensor2d(E, [r, 1]), B: tf.tensor2d(B, [B.length / r, r]) } : { A, E, B },
    );
  }
  return out;
}

function maxRelativeError(got: Float32Array, want: number[]): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, d === 0 ? 0 : d / Math.abs(want[i]));
  }
  return got.length === want.length ? worst : Infinity;
}

test('the trace has what the replay needs', (t) => {
  t.is(trace.length, 24);
  t.is(ids.length, 12);
  t.deepEqual(
    recorded.map((r) => r.step),
    [0, 1, 2, 3, 4, 5],
  );
});

test('budget and mask_ind of every step 0..23 come from the schedule', (t) => {
  const initBudget = cfg.initR * ids.length;
  const targetBudget = cfg.targetR * ids.length;
  for (const rec of trace) {
    t.deepEqual(budgetSchedule(rec.step, cfg, initBudget, targetBudget), { budget: rec.budget, mask: rec.mask_ind }, `step ${rec.step}`);
  }
});

test('steps 0-5 reproduce exp_avg_ipt, exp_avg_unc, the budgets and the zeroed singular values', (t) => {
  const allocator = new RankAllocator(cfg, new Map(ids.map((id) => [id, { rank: cfg.initR }])));
  let worst = 0;
  let masks = 0;
  for (const rec of recorded) {
    // weights as tensors, gradients as raw arrays: both input forms
    const weights = triplets(rec.params!, true);
    const grads = triplets(rec.grads!, false);
    const decision = allocator.updateAndAllocate(rec.step, weights, grads);
    t.is(decision.budget, rec.budget, `budget at step ${rec.step}`);
    t.is(decision.maskApplied, rec.mask_ind, `mask at step ${rec.step}`);
    t.false(decision.final);

    const state = allocator.exportState().importance.modules;
    for (const id of ids) {
      for (const p of ['A', 'E', 'B'] as const) {
        const key = `${id}.lora_${p}.default`; // importance keys lack the base_model.model. prefix
        worst = Math.max(worst, maxRelativeError(state[id].iptBar[p], rec.exp_avg_ipt![key]));
        worst = Math.max(worst, maxRelativeError(state[id].uncBar[p], rec.exp_avg_unc![key]));
      }
    }

    if (decision.keep) {
      masks++;
      let kept = 0;
      for (const id of ids) {
        const eAfter = rec.E_after[`${PREFIX}${id}${SUFFIX}`];
        const keep = decision.keep.get(id)!;
        t.deepEqual(
          keep,
          eAfter.map((e) => e !== 0),
          `zeroed singular values of ${id} at step ${rec.step}`,
        );
        kept += keep.filter(Boolean).length;
        // masking the weights after the optimizer step gives peft's E_after exactly
        const E = tf.variable((weights.get(id)!.E as tf.Tensor).clone());
        applyKeepMask(E, keep);
        t.deepEqual(Array.from(E.dataSync()), Array.from(Float32Array.from(eAfter)));
        E.dispose();
      }
      t.is(kept, rec.budget);
      t.deepEqual(allocator.rankPattern(), decision.keep);
    }
    for (const w of weights.values()) tf.dispose([w.A as tf.Tensor, w.E as tf.Tensor, w.B as tf.Tensor]);
  }
  t.is(masks, 1); // step 4 is the only masking step among 0..5
  t.log(`max relative error of exp_avg_ipt / exp_avg_unc: ${worst}`);
  t.true(worst <= 1e-5, `max relative error ${worst}`);
});
