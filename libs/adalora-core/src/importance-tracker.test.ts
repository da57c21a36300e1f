import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { ImportanceTracker, type Triplet } from './importance-tracker';
import { moduleId, type ModuleId } from './module-id';

const q = moduleId('enc.layer.0.query');
const v = moduleId('enc.layer.0.value');
const shapes = new Map<ModuleId, { rank: number; inF: number; outF: number }>([
  [q, { rank: 3, inF: 5, outF: 4 }],
  [v, { rank: 2, inF: 3, outF: 6 }],
]);
const modules = new Map([...shapes].map(([id, s]) => [id, { rank: s.rank }]));

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

function stepData(seed: number): Map<ModuleId, Triplet<Float32Array>> {
  return new Map(
    [...shapes].map(([id, s], i) => [
      id,
      { A: values(s.rank * s.inF, seed * 10 + i * 3), E: values(s.rank, seed * 10 + i * 3 + 1), B: values(s.outF * s.rank, seed * 10 + i * 3 + 2) },
    ]),
  );
}

// float64 reference of peft's update_ipt and triplet score
class Reference {
  ipt = new Map<string, Float64Array>();
  unc = new Map<string, Float64Array>();
  constructor(
    private b1: number,
    private b2: number,
  ) {}
  update(w: Map<ModuleId, Triplet<Float32Array>>, g: Map<ModuleId, Triplet<Float32Array>>): void {
    for (const [id, t] of w) {
      for (const p of ['A', 'E', 'B'] as const) {
        const key = `${id}.${p}`;
        const ipt = this.ipt.get(key) ?? new Float64Array(t[p].length);
        const unc = this.unc.get(key) ?? new Float64Array(t[p].length);
        for (let i = 0; i < ipt.length; i++) {
          const x = Math.abs(t[p][i] * g.get(id)![p][i]);
          ipt[i] = this.b1 * ipt[i] + (1 - this.b1) * x;
          unc[i] = this.b2 * unc[i] + (1 - this.b2) * Math.abs(x - ipt[i]);
        }
        this.ipt.set(key, ipt);
        this.unc.set(key, unc);
      }
    }
  }
  scores(id: ModuleId): number[] {
    const { rank: r, inF, outF } = shapes.get(id)!;
    const s = (p: string, i: number) => this.ipt.get(`${id}.${p}`)![i] * this.unc.get(`${id}.${p}`)![i];
    return Array.from({ length: r }, (_, i) => {
      let a = 0;
      for (let j = 0; j < inF; j++) a += s('A', i * inF + j);
      let b = 0;
      for (let o = 0; o < outF; o++) b += s('B', o * r + i);
      return s('E', i) + a / inF + b / outF;
    });
  }
}

const relClose = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number) =>
  got.length === want.length && Array.from(want).every((w, i) => Math.abs(got[i] - w) <= tol * Math.abs(w) + 1e-30);

test('EMAs and triplet scores match a float64 implementation of peft over several steps', (t) => {
  const tracker = new ImportanceTracker(modules, 0.85, 0.7);
  const ref = new Reference(0.85, 0.7);
  for (let step = 0; step < 4; step++) {
    const w = stepData(2 * step + 1);
    const g = stepData(2 * step + 2);
    tracker.update(w, g);
    ref.update(w, g);
  }
  const state = tracker.exportState().modules;
  for (const id of shapes.keys()) {
    for (const p of ['A', 'E', 'B'] as const) {
      t.true(relClose(state[id].iptBar[p], ref.ipt.get(`${id}.${p}`)!, 1e-5), `ipt ${id}.${p}`);
      t.true(relClose(state[id].uncBar[p], ref.unc.get(`${id}.${p}`)!, 1e-4), `unc ${id}.${p}`);
    }
    t.true(relClose(tracker.tripletScores().get(id)!, ref.scores(id), 1e-4), `scores ${id}`);
  }
});

test('tensors and float32 arrays give the same state; scores are 0 before the first update and after reset', (t) => {
  const fromArrays = new ImportanceTracker(modules, 0.85, 0.85);
  const fromTensors = new ImportanceTracker(modules, 0.85, 0.85);
  t.deepEqual(
    [...fromArrays.tripletScores()].map(([, s]) => Array.from(s)),
    [
      [0, 0, 0],
      [0, 0],
    ],
  );
  const toTensors = (m: Map<ModuleId, Triplet<Float32Array>>) =>
    new Map(
      [...m].map(([id, x]) => {
        const s = shapes.get(id)!;
        return [id, { A: tf.tensor2d(x.A, [s.rank, s.inF]), E: tf.tensor2d(x.E, [s.rank, 1]), B: tf.tensor2d(x.B, [s.outF, s.rank]) }];
      }),
    );
  for (let step = 0; step < 2; step++) {
    const w = stepData(step + 5);
    const g = stepData(step + 50);
    fromArrays.update(w, g);
    const [wt, gt] = [toTensors(w), toTensors(g)];
    fromTensors.update(wt, gt);
    for (const m of [wt, gt]) for (const x of m.values()) tf.dispose([x.A, x.E, x.B]);
  }
  t.deepEqual(fromTensors.exportState(), fromArrays.exportState());
  t.true([...fromArrays.tripletScores().values()].every((s) => s.some((x) => x > 0)));
  fromArrays.reset();
  t.true([...fromArrays.tripletScores().values()].every((s) => s.every((x) => x === 0)));
  t.deepEqual(fromArrays.exportState(), { modules: {} });
});

test('exportState / importState round trip: the imported tracker continues identically', (t) => {
  const a = new ImportanceTracker(modules, 0.85, 0.85);
  a.update(stepData(1), stepData(2));
  a.update(stepData(3), stepData(4));
  const saved = a.exportState();
  const b = new ImportanceTracker(modules, 0.85, 0.85);
  b.importState(saved);
  t.deepEqual(b.exportState(), saved);
  // the export is a copy: changing it (or the tracker) does not touch the other
  saved.modules[q].iptBar.A[0] = 123;
  t.not(a.exportState().modules[q].iptBar.A[0], 123);
  a.update(stepData(5), stepData(6));
  b.update(stepData(5), stepData(6));
  t.deepEqual(b.exportState(), a.exportState());
  t.deepEqual(b.tripletScores(), a.tripletScores());
});

test('importState and update refuse what does not fit, naming the module', (t) => {
  const a = new ImportanceTracker(modules, 0.85, 0.85);
  a.update(stepData(1), stepData(2));
  const good = a.exportState();
  const b = new ImportanceTracker(modules, 0.85, 0.85);
  t.throws(() => b.importState({ modules: { ...good.modules, 'enc.x': good.modules[q] } }), { message: /unknown module 'enc.x'/ });
  t.throws(() => b.importState({ modules: { [q]: { ...good.modules[q], rank: 4 } } }), { message: /'enc.layer.0.query' has rank 4, expected 3/ });
  const short = { ...good.modules[q], uncBar: { ...good.modules[q].uncBar, B: new Float32Array(3) } };
  t.throws(() => b.importState({ modules: { [q]: short } }), { message: /uncBar.B must be a Float32Array of 12 values/ });
  t.deepEqual(b.exportState(), { modules: {} }); // a refused import changes nothing

  const w = stepData(1);
  const g = stepData(2);
  t.throws(() => a.update(new Map([[q, w.get(q)!]]), g), { message: /no weights for module 'enc.layer.0.value'/ });
  const badGrad = new Map(g).set(v, { ...g.get(v)!, B: new Float32Array(5) });
  t.throws(() => a.update(w, badGrad), { message: /'enc.layer.0.value' lora_B gradient has 5 values, expected \[6, 2\]/ });
});

test('a refused update leaves the state as it was', (t) => {
  const a = new ImportanceTracker(modules, 0.85, 0.85);
  a.update(stepData(1), stepData(2));
  const before = a.exportState();
  const g = stepData(4);
  g.set(v, { ...g.get(v)!, E: new Float32Array(7) });
  t.throws(() => a.update(stepData(3), g), { message: /'enc.layer.0.value' lora_E gradient has 7 values/ });
  t.deepEqual(a.exportState(), before);
});
