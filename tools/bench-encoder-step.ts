/**
 * Times one AdaLoRA training step of a small random BERT on the wasm backend and compares its
 * FLOP rate with a plain wasm matmul measured in the same run.
 *
 *   npx tsx tools/bench-encoder-step.ts [--plain] [--runs 5] [--profile] [--dropout 0.1 [--unseeded]]
 *
 * Model: 4 layers, hidden 256, 4 heads, intermediate 1024 (random weights, dropout 0 unless --dropout),
 * AdaLoRA init_r 12 on query/key/value/attention.output.dense/intermediate.dense/output.dense;
 * batch 8 × 128 tokens. One step = forward + backward of the summed cross-entropy w.r.t. every
 * trainable (adapters + head), as the trainer's gradient pass does.
 * --plain: the linear layers use tfjs autodiff of `x·Wᵀ` (the implementation before the
 * custom-gradient op) instead of `adaptedLinear`/`frozenLinear`.
 * --profile: per-kernel time of one step (tf.profile), largest first.
 * --dropout p: hidden, attention-probs and lora dropout p, each step in its own DropoutStream as
 * the trainer runs a micro-batch; --unseeded: the same dropout outside any stream (tf.dropout
 * unseeded, as before seeded dropout), to see what the seeding costs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { parseAdaLoraConfig } from '@adalora/config';
import { DropoutStream, withDropoutStream } from '@adalora/core';
import { buildBert, HfConfig, injectAdapters, Linear, sequenceClassificationLoss, WeightStore, type EncoderInputs, type SafeTensor } from '@adalora/models';
import { medianMs } from './bench-timing';

const DROPOUT = numArg('--dropout', 0);
const DIMS = { layers: 4, hidden: 256, heads: 4, intermediate: 1024, vocab: 1000, batch: 8, seq: 128, labels: 2, initR: 12 };
const TARGETS = ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'];

function arg(name: string): boolean {
  return process.argv.includes(name);
}
function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

// N(0, std²)-ish values from a fixed LCG (sum of 4 uniforms): only the timing matters.
function randomWeights(shape: number[], std: number, seed: number): SafeTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) data[i] = (u() + u() + u() + u() - 2) * std * 1.732;
  return { shape, data };
}

function randomBert() {
  const { layers, hidden: H, intermediate: I, vocab } = DIMS;
  const config = HfConfig.parse(
    JSON.stringify({
      model_type: 'bert',
      vocab_size: vocab,
      hidden_size: H,
      num_hidden_layers: layers,
      num_attention_heads: DIMS.heads,
      intermediate_size: I,
      max_position_embeddings: 512,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      hidden_dropout_prob: DROPOUT,
      attention_probs_dropout_prob: DROPOUT,
      num_labels: DIMS.labels,
    }),
    'bench config',
  );
  const t = new Map<string, SafeTensor>();
  let seed = 1;
  const w = (name: string, shape: number[], std = 0.02) => t.set(name, randomWeights(shape, std, seed++));
  const ones = (name: string, n: number) => t.set(name, { shape: [n], data: new Float32Array(n).fill(1) });
  const zeros = (name: string, n: number) => t.set(name, { shape: [n], data: new Float32Array(n) });
  w('bert.embeddings.word_embeddings.weight', [vocab, H]);
  w('bert.embeddings.position_embeddings.weight', [512, H]);
  w('bert.embeddings.token_type_embeddings.weight', [2, H]);
  ones('bert.embeddings.LayerNorm.weight', H);
  zeros('bert.embeddings.LayerNorm.bias', H);
  const lin = (p: string, out: number, inp: number) => {
    w(`${p}.weight`, [out, inp]);
    zeros(`${p}.bias`, out);
  };
  for (let l = 0; l < layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) lin(`${p}.attention.self.${m}`, H, H);
    lin(`${p}.attention.output.dense`, H, H);
    ones(`${p}.attention.output.LayerNorm.weight`, H);
    zeros(`${p}.attention.output.LayerNorm.bias`, H);
    lin(`${p}.intermediate.dense`, I, H);
    lin(`${p}.output.dense`, H, I);
    ones(`${p}.output.LayerNorm.weight`, H);
    zeros(`${p}.output.LayerNorm.bias`, H);
  }
  lin('bert.pooler.dense', H, H);
  lin('classifier', DIMS.labels, H);
  return buildBert(config, new WeightStore(t, 'bench weights'), 'bert');
}

/** The linear layer as it was before the custom-gradient op: autodiff of x·Wᵀ (+ the adapter's delta). */
function usePlainAutodiffLinear(): void {
  Linear.prototype.apply = function (this: Linear, x: tf.Tensor, training = false): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = x.reshape([-1, this.inFeatures]);
      let y = tf.matMul(x2, this.weight, false, true);
      if (this.bias) y = y.add(this.bias);
      if (this.adapter) y = y.add(this.adapter.delta(x2, training));
      return y.reshape([...lead, this.outFeatures]);
    });
  };
}

const timeIt = (runs: number, warmup: number, f: () => void) => medianMs(runs, warmup, () => f());

/**
 * Matmul FLOPs of one forward pass (2·m·n·k each), split by kind. The step counts are
 * derived from them in main() and the convention is printed with the result.
 */
function forwardFlops() {
  const { layers, hidden: H, intermediate: I, batch: B, seq: S, heads, initR: r, labels } = DIMS;
  const N = B * S;
  const d = H / heads;
  const frozenLinear = layers * (4 * 2 * N * H * H + 2 * 2 * N * H * I) + 2 * B * H * H; // + pooler
  const attention = layers * 2 * (2 * B * heads * S * S * d); // q·kᵀ and probs·v
  // x·(A⊙E)ᵀ then h·Bᵀ, per adapted module: 2·N·r·(in + out)
  const adapter = layers * (4 * 2 * N * r * (H + H) + 2 * N * r * (H + I) + 2 * N * r * (I + H));
  const head = 2 * B * H * labels;
  return { frozenLinear, attention, adapter, head };
}

async function main(): Promise<void> {
  const plain = arg('--plain');
  const runs = numArg('--runs', 5);
  await tf.setBackend('wasm');
  await tf.ready();
  if (plain) usePlainAutodiffLinear();

  const model = randomBert();
  const cfg = parseAdaLoraConfig({ initR: DIMS.initR, targetR: 8, totalStep: 100, targetModules: TARGETS, loraDropout: DROPOUT });
  const injected = injectAdapters(model, cfg, 0);
  // E starts at 0 (peft); random E makes the branch non-trivial (same cost either way)
  tf.tidy(() => injected.adapters.forEach((a, id) => 'E' in a && a.E.assign(tf.randomNormal(a.E.shape, 0, 0.1, 'float32', id.length))));
  const names = [...injected.trainables.keys()];
  const vars = names.map((n) => injected.trainables.get(n)!);

  const rng = (n: number, max: number) => Int32Array.from({ length: n }, (_, i) => (i * 2654435761) % max);
  const batch: EncoderInputs = {
    inputIds: tf.tensor2d(rng(DIMS.batch * DIMS.seq, DIMS.vocab), [DIMS.batch, DIMS.seq], 'int32'),
    attentionMask: tf.ones([DIMS.batch, DIMS.seq], 'int32') as tf.Tensor2D,
  };
  const labels = tf.tensor1d(rng(DIMS.batch, DIMS.labels), 'int32');

  // One gradient pass, as libs/training's computeGradientSums does for one micro-batch.
  let stepIndex = 0;
  const seeded = DROPOUT > 0 && !arg('--unseeded');
  const inStream = <T>(f: () => T): T => (seeded ? withDropoutStream(DropoutStream.forMicroBatch(1, stepIndex++, 0), f) : f());
  const step = (): number =>
    inStream(() =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { logits } = model.forward(batch, true);
          return sequenceClassificationLoss(logits, labels, model.numLabels, 'sum') as tf.Scalar;
        }, vars);
        for (const v of vars) grads[v.name]?.dataSync(); // make sure every gradient is computed
        return value.dataSync()[0];
      }),
    );

  // plain matmul reference: [1024, 256]·[256, 1024]
  const a = tf.randomNormal([1024, 256]);
  const b = tf.randomNormal([256, 1024]);
  const mmFlops = 2 * 1024 * 256 * 1024;
  // (not `tidy(() => ….dataSync())`: tidy walks a returned typed array element by element)
  const matmul = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  // the machine may be shared: the reference is timed before and after the steps
  const mmBefore = timeIt(15, 3, matmul);

  const numTensors0 = (step(), tf.memory().numTensors);
  const stepMs = timeIt(runs, 1, step);
  const leak = tf.memory().numTensors - numTensors0;
  const mmAfter = timeIt(15, 1, matmul);
  const mmMs = Math.min(mmBefore, mmAfter); // the faster of the two medians: the stricter reference
  const mmRate = mmFlops / mmMs / 1e6; // GFLOP/s

  const f = forwardFlops();
  const fwd = f.frozenLinear + f.attention + f.adapter + f.head;
  // Convention A (requested): every matmul's forward FLOPs × 3 (forward, and two gradient products).
  const conventional = 3 * fwd;
  // Convention B (work a step needs): frozen linears × 2 (no weight gradient), the rest × 3.
  const needed = 2 * f.frozenLinear + 3 * (f.attention + f.adapter + f.head);
  const rateA = conventional / stepMs / 1e6;
  const rateB = needed / stepMs / 1e6;
  const G = (x: number) => (x / 1e9).toFixed(2);

  console.log(`backend wasm, linear gradient: ${plain ? 'tfjs autodiff of x·Wᵀ (--plain)' : 'adaptedLinear / frozenLinear custom gradient'}`);
  console.log(`model: ${DIMS.layers} layers, hidden ${DIMS.hidden}, ${DIMS.heads} heads, intermediate ${DIMS.intermediate}; AdaLoRA init_r ${DIMS.initR} on ${injected.adapters.size} matrices; batch ${DIMS.batch} x ${DIMS.seq}; dropout ${DROPOUT}${DROPOUT > 0 ? (seeded ? ' (seeded)' : ' (unseeded)') : ''}`);
  console.log(`forward matmul GFLOP: frozen linears ${G(f.frozenLinear)}, attention ${G(f.attention)}, adapters ${G(f.adapter)}, head ${G(f.head)}`);
  console.log(`plain matmul 1024x256·256x1024: ${mmMs.toFixed(2)} ms = ${mmRate.toFixed(2)} GFLOP/s (medians before/after the steps: ${mmBefore.toFixed(2)} / ${mmAfter.toFixed(2)} ms)`);
  console.log(`training step (median of ${runs}): ${stepMs.toFixed(0)} ms; tensors left per step: ${leak}`);
  console.log(`  A) 3 x forward FLOPs for every matmul (the 6·N·params convention): ${G(conventional)} GFLOP -> ${rateA.toFixed(2)} GFLOP/s = ${((100 * rateA) / mmRate).toFixed(1)} % of the plain matmul`);
  console.log(`  B) work needed (frozen linears 2 x: no weight gradient; rest 3 x): ${G(needed)} GFLOP -> ${rateB.toFixed(2)} GFLOP/s = ${((100 * rateB) / mmRate).toFixed(1)} % of the plain matmul`);

  if (arg('--profile')) {
    const prof = await tf.profile(() => {
      step();
    });
    // Only registered kernels: customGrad / op scopes are listed too, with their children's time.
    const kernels = prof.kernels.filter((k) => tf.getKernel(k.name, 'wasm') !== undefined);
    const byKernel = new Map<string, { ms: number; count: number }>();
    const byKind = new Map<string, number>();
    for (const k of kernels) {
      const isMatMul = k.name === 'BatchMatMul' || k.name === '_FusedMatMul';
      const shapes = isMatMul || k.name === 'Transpose' ? ` ${k.inputShapes.filter((s) => s !== null).map((s) => `[${s}]`).join('·')}` : '';
      const key = `${k.name}${shapes}`;
      const e = byKernel.get(key) ?? { ms: 0, count: 0 };
      const ms = Number(k.kernelTimeMs) || 0;
      e.ms += ms;
      e.count++;
      byKernel.set(key, e);
      // batched (rank > 2, batch > 1) products take the wasm backend's slow path: attention
      const batched = isMatMul && k.inputShapes[0] !== null && k.inputShapes[0].length > 2 && k.inputShapes[0].slice(0, -2).reduce((a, b) => a * b, 1) > 1;
      const kind = !isMatMul ? 'other kernels (element-wise, softmax, layer norm, gather, …)' : batched ? 'batched matmuls (attention)' : '2-D matmuls (linears, adapters)';
      byKind.set(kind, (byKind.get(kind) ?? 0) + ms);
    }
    const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
    console.log(`profile of one step: ${total.toFixed(0)} ms in ${kernels.length} kernels`);
    for (const [kind, ms] of [...byKind].sort((x, y) => y[1] - x[1])) console.log(`  ${ms.toFixed(0).padStart(6)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${kind}`);
    console.log('largest kernels:');
    for (const [k, e] of [...byKernel].sort((x, y) => y[1].ms - x[1].ms).slice(0, 20)) {
      console.log(`  ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)} %  x${String(e.count).padEnd(4)} ${k}`);
    }
  }
  injected.dispose();
  model.dispose();
  tf.dispose([a, b, batch.inputIds, batch.attentionMask, labels]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
