import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { AdamW } from './adamw';

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
}

// torch.optim.AdamW's update in float64, one parameter
class ReferenceAdamW {
  m: Float64Array;
  v: Float64Array;
  t = 0;
  constructor(
    public p: Float64Array,
    private b1: number,
    private b2: number,
    private eps: number,
    private wd: number,
  ) {
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
  }
  step(g: Float32Array, lr: number): void {
    this.t++;
    const bc1 = 1 - this.b1 ** this.t;
    const bc2 = 1 - this.b2 ** this.t;
    for (let i = 0; i < this.p.length; i++) {
      this.p[i] *= 1 - lr * this.wd;
      this.m[i] = this.b1 * this.m[i] + (1 - this.b1) * g[i];
      this.v[i] = this.b2 * this.v[i] + (1 - this.b2) * g[i] * g[i];
      this.p[i] -= ((lr / bc1) * this.m[i]) / (Math.sqrt(this.v[i]) / Math.sqrt(bc2) + this.eps);
    }
  }
}

const shapes: Record<string, number[]> = { w: [3, 4], b: [4] };
const grad = (name: string, step: number) => values(shapes[name].reduce((a, b) => a * b), 100 * step + name.length, 0.2);
// the lr changes per step; 'b' has no gradient at step 2 (skipped, like torch with grad None)
const schedule = [5e-3, 4e-3, 3e-3, 2e-3, 1e-3, 5e-4];

for (const backend of ['cpu', 'wasm']) {
  test.serial(`${backend}: matches a float64 torch AdamW over several steps; memory stays flat`, async (t) => {
    await tf.setBackend(backend);
    const params = new Map(Object.entries(shapes).map(([n, s], i) => [n, tf.variable(tf.tensor(values(s.reduce((a, b) => a * b), i + 1), s))]));
    const refs = new Map([...params].map(([n, p]) => [n, new ReferenceAdamW(Float64Array.from(p.dataSync()), 0.9, 0.999, 1e-8, 0.01)]));
    const opt = new AdamW(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    let numTensors = 0;
    schedule.forEach((lr, step) => {
      const grads = new Map<string, tf.Tensor>();
      for (const name of Object.keys(shapes)) {
        if (name === 'b' && step === 2) continue;
        const g = grad(name, step);
        grads.set(name, tf.tensor(g, shapes[name]));
        refs.get(name)!.step(g, lr);
      }
      opt.step(grads, lr);
      tf.dispose([...grads.values()]);
      if (step === 1) numTensors = tf.memory().numTensors;
    });
    t.is(tf.memory().numTensors, numTensors);
    let worst = 0;
    for (const [name, p] of params) {
      const got = p.dataSync();
      const want = refs.get(name)!.p;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-3));
    }
    t.true(worst < 1e-5, `max relative error ${worst}`);
    t.is(opt.exportState().params.b.step, schedule.length - 1);
    opt.dispose();
    tf.dispose([...params.values()]);
  });
}

// AdamW as tf ops, one op per term (what AdamW.step ran before its SIMD kernel): the reference for the bits
class TfOpsAdamW {
  private readonly slots = new Map<string, { step: number; m: tf.Tensor; v: tf.Tensor }>();
  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    private readonly b1: number,
    private readonly b2: number,
    private readonly eps: number,
    private readonly wd: number,
  ) {}
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) continue;
      const slot = this.slots.get(name) ?? { step: 0, m: tf.zerosLike(p), v: tf.zerosLike(p) };
      this.slots.set(name, slot);
      slot.step += 1;
      const stepSize = lr / (1 - this.b1 ** slot.step);
      const bc2Sqrt = Math.sqrt(1 - this.b2 ** slot.step);
      const [m, v, next] = tf.tidy(() => {
        const decayed = this.wd !== 0 ? p.mul(1 - lr * this.wd) : p;
        const m = slot.m.add(g.sub(slot.m).mul(1 - this.b1));
        const v = slot.v.mul(this.b2).add(g.mul(g).mul(1 - this.b2));
        const denom = v.sqrt().div(bc2Sqrt).add(this.eps);
        return [m, v, decayed.sub(m.div(denom).mul(stepSize))];
      });
      p.assign(next);
      tf.dispose([slot.m, slot.v, next]);
      slot.m = m;
      slot.v = v;
    }
  }
  moments(name: string): [Float32Array, Float32Array] {
    const s = this.slots.get(name)!;
    return [Float32Array.from(s.m.dataSync()), Float32Array.from(s.v.dataSync())];
  }
  dispose(): void {
    for (const s of this.slots.values()) tf.dispose([s.m, s.v]);
  }
}

// values over many magnitudes (float32 subnormal squares included), with exact zeros and signs
function wideValues(n: number, seed: number): Float32Array {
  const u = values(3 * n, seed, 1);
  return Float32Array.from({ length: n }, (_, i) => (Math.abs(u[3 * i + 2]) < 0.05 ? 0 : u[3 * i] * 2 ** Math.floor((u[3 * i + 1] + 0.5) * 90 - 80)));
}

const bytes = (a: ArrayLike<number>) => Buffer.from(Float32Array.from(a).buffer);

for (const backend of ['cpu', 'wasm']) {
  for (const wd of [0, 0.01, 0.1]) {
    test.serial(`${backend}: the SIMD kernel gives the bits of the tf ops (weight decay ${wd}), by step() and by stepFloat32()`, async (t) => {
      await tf.setBackend(backend);
      // sizes not multiples of 4 (the kernel's lanes); 'big' grows the kernel's memory past its first page
      const sizes: Record<string, number[]> = { w: [37, 29], e: [12, 1], b: [301], big: [70, 61] };
      const make = () => new Map(Object.entries(sizes).map(([n, s], i) => [n, tf.variable(tf.tensor(wideValues(s.reduce((a, b) => a * b), 11 + i), s))]));
      const [pr, pa, pb] = [make(), make(), make()];
      const ref = new TfOpsAdamW(pr, 0.9, 0.999, 1e-8, wd);
      const [a, b] = [pa, pb].map((p) => new AdamW(p, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd }));
      const lrs = [1e-3, 5e-2, 2e-4, 0, 3e-3, 1e-1, 7e-4, 1e-3];
      lrs.forEach((lr, step) => {
        const g = new Map(Object.entries(sizes).map(([n, s], i) => [n, wideValues(s.reduce((x, y) => x * y), 1000 * step + i)]));
        if (step === 3) g.delete('e'); // skipped this step, as torch skips a parameter without gradient
        const tensors = new Map([...g].map(([n, v]) => [n, tf.tensor(v, sizes[n])]));
        ref.step(tensors, lr);
        a.step(tensors, lr);
        const written = b.stepFloat32(g, lr);
        tf.dispose([...tensors.values()]);
        t.deepEqual([...written.keys()], [...g.keys()]);
        for (const [n, p] of pr) {
          const want = bytes(p.dataSync());
          t.deepEqual(bytes(pa.get(n)!.dataSync()), want, `step ${step} '${n}': step()`);
          t.deepEqual(bytes(pb.get(n)!.dataSync()), want, `step ${step} '${n}': stepFloat32()`);
          if (written.has(n)) t.deepEqual(bytes(written.get(n)!), want, `step ${step} '${n}': the values stepFloat32 returned`);
        }
      });
      let subnormal = 0;
      for (const n of Object.keys(sizes)) {
        const [m, v] = ref.moments(n);
        subnormal += v.filter((x) => x !== 0 && x < 2 ** -126).length;
        for (const o of [a, b]) {
          const s = o.exportState().params[n];
          t.deepEqual([bytes(s.expAvg), bytes(s.expAvgSq)], [bytes(m), bytes(v)], `'${n}' moments`);
          t.is(s.step, n === 'e' ? lrs.length - 1 : lrs.length);
        }
      }
      t.true(subnormal > 0, 'the data reach float32 subnormals (where a kernel flushing them to 0 would differ)');
      t.throws(() => b.stepFloat32(new Map([['b', new Float32Array(300)]]), 1e-3), { message: /gradient of 'b' must be a Float32Array of 301 values \(shape \[301\]\), got Float32Array of 300 values/ });
      t.throws(() => b.stepFloat32(new Map([['q', new Float32Array(3)]]), 1e-3), { message: /unknown parameter 'q'/ });
      ref.dispose();
      tf.dispose([...pr.values(), ...pa.values(), ...pb.values()]);
    });
  }
}

test.serial('exportState / importState round trip continues identically', async (t) => {
  await tf.setBackend('cpu');
  const make = () => new Map(Object.entries(shapes).map(([n, s], i) => [n, tf.variable(tf.tensor(values(s.reduce((a, b) => a * b), i + 7), s))]));
  const pa = make();
  const a = new AdamW(pa);
  const gradsAt = (step: number) => new Map(Object.keys(shapes).map((n) => [n, tf.tensor(grad(n, step), shapes[n])]));
  for (let s = 0; s < 3; s++) {
    const g = gradsAt(s);
    a.step(g, 1e-2);
    tf.dispose([...g.values()]);
  }
  const saved = a.exportState();
  const pb = new Map([...pa].map(([n, p]) => [n, tf.variable(p.clone())]));
  const b = new AdamW(pb);
  b.importState(saved);
  t.deepEqual(b.exportState(), saved);
  saved.params.w.expAvg[0] = 42; // the import copied the arrays
  t.not(b.exportState().params.w.expAvg[0], 42);
  for (let s = 3; s < 5; s++) {
    const g = gradsAt(s);
    a.step(g, 1e-2);
    b.step(g, 1e-2);
    tf.dispose([...g.values()]);
  }
  for (const [n, p] of pa) t.deepEqual(pb.get(n)!.dataSync(), p.dataSync());
  t.deepEqual(b.exportState(), a.exportState());
  t.throws(() => b.importState({ params: { w: { step: 1, expAvg: new Float32Array(3), expAvgSq: new Float32Array(12) } } }), { message: /'w' expAvg must be a Float32Array of 12 values/ });
  t.throws(() => b.step(new Map([['z', tf.zeros([1])]]), 1e-3), { message: /unknown parameter 'z'/ });
  t.throws(() => b.step(new Map([['b', tf.zeros([3])]]), 1e-3), { message: /'b' has shape \[3\], expected \[4\]/ });
  [a, b].forEach((o) => o.dispose());
  tf.dispose([...pa.values(), ...pb.values()]);
});
