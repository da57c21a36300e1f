// AdamW over the BERT-base adapter set (72 matrices × A, E, B = 216 parameters, init_r 12,
// ≈ 2.0 M values) on the wasm backend: the tf-ops update AdamW ran before (≈ 10 ops per
// parameter, kept here as the reference) against its float32 WebAssembly SIMD kernel
// (AdamW.stepFloat32: one pass per parameter, see adamw-kernel.ts), interleaved step by step, with the median ratio and its spread; and the
// bits of both, compared after the last step.
//
//   npx tsx tools/bench-adamw.ts [--steps 20]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { AdamW } from '@adalora/core';
import { formatRatio, median, summarizeRatios } from './bench-timing';

const STEPS = process.argv.includes('--steps') ? Number(process.argv[process.argv.indexOf('--steps') + 1]) : 20;
const R = 12;
const [B1, B2, EPS, WD] = [0.9, 0.999, 1e-8, 0.01];

// the tf-ops update (what AdamW.step ran before; adamw.test.ts holds the same reference)
class TfOpsAdamW {
  private readonly slots = new Map<string, { step: number; m: tf.Tensor; v: tf.Tensor }>();
  constructor(private readonly params: ReadonlyMap<string, tf.Variable>) {}
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    for (const [name, p] of this.params) {
      const g = grads.get(name)!;
      const slot = this.slots.get(name) ?? { step: 0, m: tf.zerosLike(p), v: tf.zerosLike(p) };
      this.slots.set(name, slot);
      slot.step += 1;
      const stepSize = lr / (1 - B1 ** slot.step);
      const bc2Sqrt = Math.sqrt(1 - B2 ** slot.step);
      const [m, v, next] = tf.tidy(() => {
        const m = slot.m.add(g.sub(slot.m).mul(1 - B1));
        const v = slot.v.mul(B2).add(g.mul(g).mul(1 - B2));
        const denom = v.sqrt().div(bc2Sqrt).add(EPS);
        return [m, v, p.mul(1 - lr * WD).sub(m.div(denom).mul(stepSize))];
      });
      p.assign(next);
      tf.dispose([slot.m, slot.v, next]);
      slot.m = m;
      slot.v = v;
    }
  }
}

await tf.setBackend('wasm');
await tf.ready();
const shapes: number[][] = [];
for (let l = 0; l < 12; l++) {
  for (const [out, inF] of [[768, 768], [768, 768], [768, 768], [768, 768], [3072, 768], [768, 3072]]) shapes.push([R, inF], [R, 1], [out, R]);
}
const make = () => new Map(shapes.map((s, i) => [`p${i}`, tf.variable(tf.randomNormal(s, 0, 0.02, 'float32', i + 1))])); // seed 0 would mean unseeded
const [before, now] = [make(), make()];
const total = [...now.values()].reduce((n, p) => n + p.size, 0);
const reference = new TfOpsAdamW(before);
const adamw = new AdamW(now, { beta1: B1, beta2: B2, eps: EPS, weightDecay: WD });
const gradTensors = (step: number) => new Map(shapes.map((s, i) => [`p${i}`, tf.randomNormal(s, 0, 1e-3, 'float32', 1000 * step + i + 1)]));
console.log(`AdamW, ${now.size} parameters, ${total} values, backend ${tf.getBackend()}, ${STEPS} steps (+2 warm-up), interleaved`);

const ms: [number[], number[]] = [[], []];
for (let step = 0; step < STEPS + 2; step++) {
  const g = gradTensors(step);
  const floats = new Map([...g].map(([n, t]) => [n, t.dataSync() as Float32Array]));
  const lr = 1e-3 * (1 - step / (STEPS + 2));
  const t0 = performance.now();
  reference.step(g, lr);
  const t1 = performance.now();
  adamw.stepFloat32(floats, lr);
  const t2 = performance.now();
  tf.dispose([...g.values()]);
  if (step >= 2) {
    ms[0].push(t1 - t0);
    ms[1].push(t2 - t1);
  }
}
const differing = [...now].filter(([n, p]) => Buffer.compare(Buffer.from(p.dataSync().buffer), Buffer.from(before.get(n)!.dataSync().buffer)) !== 0).length;
console.log(`before: tf ops (≈ 10 per parameter)       ${median(ms[0]).toFixed(1).padStart(7)} ms per step (median)`);
console.log(`now:    wasm SIMD kernel (AdamWKernel)     ${median(ms[1]).toFixed(1).padStart(7)} ms per step (median)`);
console.log(`now / before: ${formatRatio(summarizeRatios(ms[1].map((x, i) => x / ms[0][i])))}`);
console.log(`bits after ${STEPS + 2} steps: ${differing === 0 ? 'identical' : `${differing} of ${now.size} parameters DIFFER`}`);
if (differing > 0) process.exitCode = 1;
