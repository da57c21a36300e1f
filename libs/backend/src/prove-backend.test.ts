import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerCpuVariant } from '@adalora/test-support';
import { proveBackend } from './prove-backend';

// Tests share tfjs's global backend: run them one at a time.
test.serial('the cpu backend passes the proof step and leaves no tensors behind', async (t) => {
  await tf.setBackend('cpu');
  proveBackend();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) proveBackend();
  t.is(tf.memory().numTensors, before);
});

test.serial('the wasm backend passes the proof step', async (t) => {
  t.true(await tf.setBackend('wasm'));
  t.notThrows(() => proveBackend());
});

test.serial('a backend whose matMul is off by 0.1% fails, saying what differs', async (t) => {
  registerCpuVariant('cpu-bad-matmul', { corrupt: { BatchMatMul: (v) => v.forEach((x, i) => (v[i] = x * 1.001)) } });
  await tf.setBackend('cpu-bad-matmul');
  const before = tf.memory().numTensors;
  const err = t.throws(() => proveBackend());
  t.regex(err?.message ?? '', /differs from reference .*relative error .* > 0\.0001/);
  t.is(tf.memory().numTensors, before, 'a failed proof disposes its tensors too');
});

test.serial('a backend whose erf returns NaN fails on the non-finite loss', async (t) => {
  registerCpuVariant('cpu-nan-erf', { corrupt: { Erf: (v) => v.fill(NaN) } });
  await tf.setBackend('cpu-nan-erf');
  t.regex(t.throws(() => proveBackend())?.message ?? '', /^loss is NaN/);
});

test.serial('a backend lacking a kernel fails, naming the kernel', async (t) => {
  // Sqrt is used by the regulariser's forward and backward.
  registerCpuVariant('cpu-no-sqrt', { drop: ['Sqrt'] });
  await tf.setBackend('cpu-no-sqrt');
  t.regex(t.throws(() => proveBackend())?.message ?? '', /Sqrt/);
});
