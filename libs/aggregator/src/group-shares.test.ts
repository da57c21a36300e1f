import test from 'ava';
import { planShares, unitsOf } from '@adalora/coordinator';
import type { TrainableKey } from '@adalora/core';
import { decodeSamples, encodeSamples, type ComputeMessage, type SampleBatch } from '@adalora/protocol';
import type { GradientSums } from '@adalora/training';
import { joinOutputs, shareCompute, sumShares } from './group-shares';

// 9 rows in micro-batches of 2: five units, the last one short (as a global batch's last can be)
const ROWS = 9;
const SEQ = 3;
const MICRO = 2;
const batch: SampleBatch = {
  rows: ROWS,
  seq: SEQ,
  inputIds: Int32Array.from({ length: ROWS * SEQ }, (_, i) => 100 + i),
  attentionMask: Int32Array.from({ length: ROWS * SEQ }, (_, i) => (i % SEQ === SEQ - 1 ? 0 : 1)),
  labels: Int32Array.from({ length: ROWS }, (_, r) => r % 3),
};
const ids = Array.from({ length: ROWS }, (_, r) => 1000 + r);
const compute: ComputeMessage = { type: 'compute', runId: 'run', step: 7, requestId: 41, seed: 1234, microBatches: [3, 4, 5, 6, 7], samples: encodeSamples(ids, batch) };

test('the shares of a compute, among any number of workers, carry every row once, in order, with their grid micro-batches', (t) => {
  const whole = decodeSamples(compute.samples);
  for (const workers of [1, 2, 3, 5]) {
    const shares = planShares(unitsOf(ROWS, MICRO), workers);
    const parts = shares.map((share, i) => shareCompute(compute, whole, MICRO, share, i));
    t.deepEqual(parts.flatMap((p) => p.microBatches), compute.microBatches, `${workers} workers`);
    t.deepEqual(parts.flatMap((p) => p.samples.sampleIds), ids);
    const decoded = parts.map((p) => decodeSamples(p.samples));
    t.deepEqual(Int32Array.from(decoded.flatMap((d) => [...d.inputIds])), batch.inputIds);
    t.deepEqual(Int32Array.from(decoded.flatMap((d) => [...d.attentionMask])), batch.attentionMask);
    t.deepEqual(Int32Array.from(decoded.flatMap((d) => [...d.labels])), batch.labels as Int32Array);
    for (const p of parts) {
      t.like(p, { step: 7, seed: 1234, runId: 'run' });
      // what a worker checks: its samples make exactly the micro-batches it is named
      t.is(Math.ceil(p.samples.sampleIds.length / MICRO), p.microBatches.length);
    }
  }
});

/**
 * A deterministic float32 "gradient" of one micro-batch: element i has its own scale (2^-20 …
 * 2^11 across elements) and varies within 3 binades and in sign from micro-batch to micro-batch,
 * as a parameter's gradient does over micro-batches of one step.
 */
function microGradient(unit: number, size: number): Float32Array {
  let s = (0x9e3779b9 ^ Math.imul(unit + 1, 2654435761)) >>> 0;
  return Float32Array.from({ length: size }, (_, i) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const sign = s & 1 ? 1 : -1;
    return sign * (1 + (s >>> 8) / 2 ** 24) * 2 ** (((s >>> 4) & 3) + ((i * 7) % 32) - 20);
  });
}

const KEY = 'm.lora_A' as TrainableKey;
const SIZE = 4096;
const sumsOf = (units: readonly number[]): GradientSums => {
  // as a worker adds its micro-batches' float32 gradients: in float64, in order
  const g = new Float64Array(SIZE);
  for (const u of units) microGradient(u, SIZE).forEach((v, i) => (g[i] += v));
  return { count: units.length * MICRO, lossSum: units.reduce((s, u) => s + Math.fround(0.5 + u / 7), 0), grads: new Map([[KEY, g]]) };
};

test('the sum of a group\'s float64 shares has the bits of one worker\'s sum over all their micro-batches', (t) => {
  const units = [0, 1, 2, 3, 4, 5, 6, 7];
  const lone = sumsOf(units);
  for (const workers of [2, 3, 4]) {
    const summed = sumShares(planShares(units, workers).map(sumsOf));
    t.is(summed.count, lone.count);
    t.is(summed.lossSum, lone.lossSum);
    t.deepEqual(new Uint8Array(summed.grads.get(KEY)!.buffer), new Uint8Array(lone.grads.get(KEY)!.buffer), `${workers} workers`);
  }
  t.throws(() => sumShares([]), { message: /no share/ });
  const short = { count: 1, lossSum: 0, grads: new Map([[KEY, new Float64Array(3)]]) };
  t.throws(() => sumShares([lone, short]), { message: /'m\.lora_A' is missing from a share or has another size/ });
});

test('evaluation outputs of the shares join in share order', (t) => {
  t.deepEqual(joinOutputs([Float32Array.of(1, 2), Float32Array.of(), Float32Array.of(3, 4, 5, 6)]), Float32Array.of(1, 2, 3, 4, 5, 6));
});
