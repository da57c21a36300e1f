import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { parseAdaLoraConfig } from '@adalora/config';
import type { Triplet } from './importance-tracker';
import { moduleId, type ModuleId } from './module-id';
import { applyKeepMask, RankAllocator } from './rank-allocator';
import { tripletMask } from './triplet-mask';

const m1 = moduleId('enc.layer.0.query');
const m2 = moduleId('enc.layer.0.value');
const IN = 4;
const OUT = 3;

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

// every module gets the same data when `same`, so all modules score alike
function data(r: number, seed: number, same = false): Map<ModuleId, Triplet<Float32Array>> {
  return new Map(
    [m1, m2].map((id, i) => {
      const s = seed * 7 + (same ? 0 : i * 3);
      return [id, { A: values(r * IN, s), E: values(r, s + 1), B: values(OUT * r, s + 2) }];
    }),
  );
}

// T = 10, no warm-up / final phase: c = 1 − step/10; with 2 modules 2 → 1: budget(1) = floor(2·0.729 + 2) = 3
const cfg = parseAdaLoraConfig({ initR: 2, targetR: 1, totalStep: 10, tinit: 0, tfinal: 0, deltaT: 1, targetModules: ['query', 'value'] });
const ranks = (r: number) =>
  new Map([
    [m1, { rank: r }],
    [m2, { rank: r }],
  ]);

test('tripletMask: every score equal to the k-th smallest is masked (ties mask more)', (t) => {
  const scores = new Map([
    [m1, Float32Array.of(1, 2, 2, 3)],
    [m2, Float32Array.of(2, 5)],
  ]);
  const keep = tripletMask(scores, 2); // threshold 2: masks 1 and all three 2s
  t.deepEqual(keep.get(m1), [false, false, false, true]);
  t.deepEqual(keep.get(m2), [false, true]);
  t.deepEqual(tripletMask(scores, 1).get(m1), [false, true, true, true]);
  t.deepEqual([...tripletMask(scores, 5).values()], [[false, false, false, false], [false, true]]); // threshold 3: all but 5
});

test('tripletMask: k <= 0 masks nothing, k >= #triplets masks everything', (t) => {
  const scores = new Map([
    [m1, Float32Array.of(3, 1)],
    [m2, Float32Array.of(2)],
  ]);
  for (const k of [0, -4]) t.deepEqual([...tripletMask(scores, k).values()], [[true, true], [true]]);
  for (const k of [3, 10]) t.deepEqual([...tripletMask(scores, k).values()], [[false, false], [false]]);
});

test('the allocator masks every tied triplet at the threshold, beyond the budget', (t) => {
  const alloc = new RankAllocator(cfg, ranks(2));
  t.like(alloc.updateAndAllocate(0, data(2, 1, true), data(2, 2, true)), { budget: 4, maskApplied: false, keep: null });
  const d = alloc.updateAndAllocate(1, data(2, 3, true), data(2, 4, true));
  t.is(d.budget, 3); // k = 1, but both modules' weakest triplet has the same score
  t.true(d.maskApplied);
  t.deepEqual(d.keep?.get(m1), d.keep?.get(m2));
  t.is([...d.keep!.values()].flat().filter(Boolean).length, 2);
});

test('phases: importance updates before T - tfinal, freeze and reset at it, frozen pattern after', (t) => {
  // T = 8, tinit 1, tfinal 3 → T − tfinal = 5; 2 modules × 3 → 2 × 1
  const c = parseAdaLoraConfig({ initR: 3, targetR: 1, totalStep: 8, tinit: 1, tfinal: 3, deltaT: 2, targetModules: ['query', 'value'] });
  const alloc = new RankAllocator(c, ranks(3));
  t.deepEqual([alloc.initBudget, alloc.targetBudget], [6, 2]);
  t.is(alloc.rankPattern(), null);
  const seen = [];
  for (let step = 0; step < 5; step++) {
    const d = alloc.updateAndAllocate(step, data(3, step), data(3, step + 100));
    seen.push([d.budget, d.maskApplied, d.final, d.keep === null ? null : [...d.keep.values()].flat().filter(Boolean).length]);
    if (d.keep) t.deepEqual(alloc.rankPattern(), d.keep);
  }
  t.deepEqual(seen, [
    [6, false, false, null], // 1. warm-up: steps <= tinit
    [6, false, false, null],
    [3, true, false, 3], // c = 0.75: floor(4 · 0.421875 + 2) = 3, 2 % 2 == 0
    [2, false, false, null], // c = 0.5: floor(2.5), 3 % 2 != 0
    [2, true, false, 2], // c = 0.25: floor(2.0625)
  ]);
  // step T − tfinal: no importance update (empty inputs are not even read), mask to the target with
  // the scores as they were, freeze, reset
  const want = tripletMask(alloc.tripletScores(), 6 - 2);
  const none = new Map<ModuleId, Triplet>();
  const fin = alloc.updateAndAllocate(5, none, none);
  t.like(fin, { budget: 2, maskApplied: true, final: true });
  t.deepEqual(fin.keep, want);
  t.true([...alloc.tripletScores().values()].every((s) => s.every((x) => x === 0)));
  // after: the frozen pattern every step, still without reading any input
  for (const step of [6, 7]) t.deepEqual(alloc.updateAndAllocate(step, none, none), { budget: 2, maskApplied: true, keep: want, final: true });
  t.deepEqual(alloc.rankPattern(), want);
});

test('a step after T - tfinal without a frozen pattern is refused', (t) => {
  const c = parseAdaLoraConfig({ initR: 2, targetR: 1, totalStep: 8, tfinal: 3, targetModules: ['query'] });
  const alloc = new RankAllocator(c, ranks(2));
  t.throws(() => alloc.updateAndAllocate(6, new Map(), new Map()), { message: /no final rank pattern was frozen/ });
});

test('exportState / importState: a restored allocator makes the same decisions', (t) => {
  const a = new RankAllocator(cfg, ranks(2));
  a.updateAndAllocate(0, data(2, 1), data(2, 2));
  a.updateAndAllocate(1, data(2, 3), data(2, 4));
  const saved = a.exportState();
  t.not(saved.rankPattern, null);
  const b = new RankAllocator(cfg, ranks(2));
  b.importState(saved);
  t.deepEqual(b.exportState(), saved);
  for (let step = 2; step < 12; step++) {
    t.deepEqual(b.updateAndAllocate(step, data(2, step * 2), data(2, step * 2 + 1)), a.updateAndAllocate(step, data(2, step * 2), data(2, step * 2 + 1)), `step ${step}`);
  }
  t.deepEqual(b.exportState(), a.exportState());
  t.throws(() => b.importState({ ...saved, rankPattern: { [m1]: [true], [m2]: [true, true] } }), { message: /rankPattern of 'enc.layer.0.query' must be 2 booleans/ });
});

test('refuses LoRA mode and inputs missing a module', (t) => {
  t.throws(() => new RankAllocator(parseAdaLoraConfig({ mode: 'lora', totalStep: 5, targetModules: ['q'] }), ranks(2)), { message: /skip the allocator for LoRA/ });
  const alloc = new RankAllocator(cfg, ranks(2));
  const w = data(2, 1);
  w.delete(m2);
  t.throws(() => alloc.updateAndAllocate(0, w, data(2, 2)), { message: /no weights for module 'enc.layer.0.value'/ });
});

test('applyKeepMask zeroes the masked E in place (+0) and refuses a wrong length', (t) => {
  const E = tf.variable(tf.tensor2d([0.5, -0.25, 2], [3, 1]));
  applyKeepMask(E, [true, false, false]);
  t.deepEqual(Array.from(E.dataSync()), [0.5, 0, 0]);
  t.true(Object.is(E.dataSync()[1], 0));
  t.throws(() => applyKeepMask(E, [true]), { message: /1 flags for E of shape \[3, 1\]/ });
  E.dispose();
});

test('tensor memory is flat across repeated allocator steps with tensor inputs', (t) => {
  const alloc = new RankAllocator(cfg, ranks(2));
  const toTensors = (m: Map<ModuleId, Triplet<Float32Array>>) =>
    new Map([...m].map(([id, x]) => [id, { A: tf.tensor2d(x.A, [2, IN]), E: tf.tensor2d(x.E, [2, 1]), B: tf.tensor2d(x.B, [OUT, 2]) }]));
  const weights = toTensors(data(2, 1));
  const grads = toTensors(data(2, 2));
  const E = new Map([...weights].map(([id, w]) => [id, tf.variable(w.E)]));
  const run = (step: number) => {
    const d = alloc.updateAndAllocate(step, weights, grads);
    if (d.keep) for (const [id, keep] of d.keep) applyKeepMask(E.get(id)!, keep);
  };
  run(0);
  run(1);
  const before = tf.memory().numTensors;
  let masked = 0;
  for (let step = 2; step < 12; step++) {
    run(step);
    masked += [...E.values()].flatMap((e) => Array.from(e.dataSync())).filter((x) => x === 0).length;
  }
  t.is(tf.memory().numTensors, before);
  t.true(masked > 0); // the loop did mask
  for (const m of [weights, grads]) for (const x of m.values()) tf.dispose([x.A, x.E, x.B]);
  tf.dispose([...E.values()]);
});
