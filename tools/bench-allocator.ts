// Benchmark of one RankAllocator masking step (importance update + triplet scores + threshold)
// for a BERT-base-sized adapter set on the wasm backend: 12 layers × (q, k, v, attention
// output 768×768, intermediate 3072×768, output 768×3072), init_r 12 → ≈ 2.0 M adapter values.
// Prints the median over 20 runs, reference figures measured in the same run, and the ratio.
// Run: npx tsx tools/bench-allocator.ts
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { parseAdaLoraConfig } from '@adalora/config';
import { applyKeepMask, moduleId, RankAllocator, tripletMask, type ModuleId, type Triplet } from '@adalora/core';
import { medianMs } from './bench-timing';

const RUNS = 20;
const R = 12;
const HIDDEN = 768;
const FFN = 3072;

const time = (runs: number, f: (i: number) => void) => medianMs(runs, 2, f);

// The straightforward alternative, kept for comparison: importance state as tf tensors, one
// tf op per formula term per tensor, and one read-back of all triplet scores.
class TfOpsImportance {
  private ipt = new Map<string, tf.Tensor>();
  private unc = new Map<string, tf.Tensor>();
  constructor(
    private b1: number,
    private b2: number,
  ) {}
  update(weights: ReadonlyMap<ModuleId, Triplet<tf.Tensor>>, grads: ReadonlyMap<ModuleId, Triplet<tf.Tensor>>): void {
    for (const [id, w] of weights) {
      for (const p of ['A', 'E', 'B'] as const) {
        const key = `${id}.${p}`;
        const g = grads.get(id)![p];
        const [i2, u2] = tf.tidy(() => {
          const x = w[p].mul(g).abs();
          const i1 = this.ipt.get(key) ?? tf.zerosLike(x);
          const u1 = this.unc.get(key) ?? tf.zerosLike(x);
          const ib = i1.mul(this.b1).add(x.mul(1 - this.b1));
          return [ib, u1.mul(this.b2).add(x.sub(ib).abs().mul(1 - this.b2))];
        });
        this.ipt.get(key)?.dispose();
        this.unc.get(key)?.dispose();
        this.ipt.set(key, i2);
        this.unc.set(key, u2);
      }
    }
  }
  scores(ids: readonly ModuleId[]): Map<ModuleId, Float32Array> {
    const flat = tf.tidy(() => {
      const s = (id: ModuleId, p: string) => this.ipt.get(`${id}.${p}`)!.mul(this.unc.get(`${id}.${p}`)!);
      return tf.concat(ids.map((id) => s(id, 'E').reshape([-1]).add(s(id, 'A').mean(1)).add(s(id, 'B').mean(0)))).dataSync() as Float32Array;
    });
    return new Map(ids.map((id, i) => [id, flat.subarray(i * R, (i + 1) * R)]));
  }
  dispose(): void {
    tf.dispose([...this.ipt.values(), ...this.unc.values()]);
  }
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();

  const shapes: [string, number, number][] = []; // [path, out, in]
  for (let l = 0; l < 12; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) shapes.push([`${p}.${m}`, HIDDEN, HIDDEN]);
    shapes.push([`${p}.intermediate.dense`, FFN, HIDDEN], [`${p}.output.dense`, HIDDEN, FFN]);
  }
  const weights = new Map<ModuleId, Triplet<tf.Variable>>();
  const grads = new Map<ModuleId, Triplet<tf.Tensor>>();
  let total = 0;
  shapes.forEach(([path, out, inF], i) => {
    const id = moduleId(path);
    weights.set(id, {
      A: tf.variable(tf.randomNormal([R, inF], 0, 0.02, 'float32', 3 * i)),
      E: tf.variable(tf.randomNormal([R, 1], 0, 0.01, 'float32', 3 * i + 1)),
      B: tf.variable(tf.randomNormal([out, R], 0, 0.02, 'float32', 3 * i + 2)),
    });
    grads.set(id, { A: tf.randomNormal([R, inF], 0, 1e-3), E: tf.randomNormal([R, 1], 0, 1e-3), B: tf.randomNormal([out, R], 0, 1e-3) });
    total += R * inF + R + out * R;
  });
  const ids = [...weights.keys()];
  console.log(`backend ${tf.getBackend()}, ${weights.size} adapted matrices, init_r ${R}, ${(total / 1e6).toFixed(3)} M adapter values`);

  // every step from 1 on masks: T = 10000, tinit = tfinal = 0, deltaT = 1
  const cfg = parseAdaLoraConfig({ initR: R, targetR: 8, totalStep: 10000, deltaT: 1, targetModules: ['query', 'key', 'value', 'dense'] });
  const ranks = new Map(ids.map((id) => [id, { rank: R }]));

  // reference figures, same process, same data size
  const x = tf.randomNormal([total]);
  const y = tf.randomNormal([total]);
  const elementwise = time(RUNS, () => tf.tidy(() => tf.mul(x, y)).dispose());
  const xs = x.dataSync() as Float32Array;
  const ys = y.dataSync() as Float32Array;
  const zs = new Float32Array(total);
  const jsLoop = time(RUNS, () => {
    for (let i = 0; i < total; i++) zs[i] = xs[i] * ys[i];
  });
  const X = tf.randomNormal([128, HIDDEN]);
  const W = tf.randomNormal([HIDDEN, HIDDEN]);
  const matmul = time(RUNS, () => tf.tidy(() => tf.matMul(X, W)).dataSync());
  const readBack = time(RUNS, () => {
    for (const w of weights.values()) for (const t of [w.A, w.E, w.B]) t.dataSync();
  });

  // baseline: tf ops
  const naive = new TfOpsImportance(cfg.beta1, cfg.beta2);
  let step = 0;
  const naiveMs = time(RUNS, () => {
    naive.update(weights, grads);
    tripletMask(naive.scores(ids), weights.size * R - (weights.size * R - 5));
    step++;
  });
  naive.dispose();

  // the allocator (flat float32 arrays, one JS pass per tensor)
  const alloc = new RankAllocator(cfg, ranks);
  alloc.updateAndAllocate(0, weights, grads); // step 0: update only, allocates the state
  step = 1;
  let lastBudget = 0;
  const tensorsBefore = tf.memory().numTensors;
  const allocMs = time(RUNS, () => {
    const d = alloc.updateAndAllocate(step++, weights, grads);
    if (!d.maskApplied) throw new Error('bench: expected a masking step');
    lastBudget = d.budget;
  });
  const rawGrads = new Map([...grads].map(([id, g]) => [id, { A: g.A.dataSync() as Float32Array, E: g.E.dataSync() as Float32Array, B: g.B.dataSync() as Float32Array }]));
  const allocRawMs = time(RUNS, () => alloc.updateAndAllocate(step++, weights, rawGrads));
  const keep = alloc.rankPattern()!;
  const maskMs = time(RUNS, () => {
    for (const [id, k] of keep) applyKeepMask(weights.get(id)!.E, k);
  });
  const tensorsAfter = tf.memory().numTensors;

  const f = (ms: number) => `${ms.toFixed(2).padStart(8)} ms`;
  console.log(`reference: tf.mul over ${total} floats (wasm)        ${f(elementwise)}`);
  console.log(`reference: JS loop z = x·y over ${total} floats     ${f(jsLoop)}`);
  console.log(`reference: matMul [128,768]·[768,768] + read (wasm)  ${f(matmul)}`);
  console.log(`reference: dataSync of every A, E, B (216 tensors)   ${f(readBack)}`);
  console.log(`before: tf-ops importance + scores + threshold       ${f(naiveMs)}  (${(naiveMs / elementwise).toFixed(1)}× tf.mul)`);
  console.log(`after:  RankAllocator.updateAndAllocate (tensors)    ${f(allocMs)}  (${(allocMs / elementwise).toFixed(1)}× tf.mul, ${(allocMs / jsLoop).toFixed(1)}× JS loop)`);
  console.log(`after:  same, gradients given as Float32Arrays       ${f(allocRawMs)}`);
  console.log(`applyKeepMask on all 72 E                            ${f(maskMs)}`);
  console.log(`budget at the last timed step ${lastBudget}; tensors before/after ${tensorsBefore}/${tensorsAfter}`);
  console.log(`target <= 20 ms: ${allocMs <= 20 ? 'met' : 'NOT met'}`);
}

await main();
