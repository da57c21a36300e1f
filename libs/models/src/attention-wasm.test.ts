import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { matMulPerBatch } from './attention-wasm';

// max |a - b| relative to max |b|
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0] / Math.max(b.abs().max().dataSync()[0], 1e-30));
}

for (const backend of ['cpu', 'wasm']) {
  test.serial(`matMulPerBatch on ${backend}: value and gradients match tf.matMul's autodiff`, async (t) => {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const a = tf.randomNormal([6, 20, 70], 0, 1, 'float32', 1) as tf.Tensor3D; // [n, m, k]; k > 48, the wasm naive kernel's block
      const b = tf.randomNormal([6, 70, 9], 0, 1, 'float32', 2) as tf.Tensor3D; // [n, k, p]
      const r = tf.randomNormal([6, 20, 9], 0, 1, 'float32', 3); // dL/dy, so dy is not all ones
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => matMulPerBatch(x as tf.Tensor3D, y as tf.Tensor3D).mul(r).sum())([a, b]);
      const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).mul(r).sum())([a, b]);
      const errs = [relErr(matMulPerBatch(a, b), tf.matMul(a, b)), relErr(ours[0], ref[0]), relErr(ours[1], ref[1])];
      t.log(`${backend}: relative error of a·b, da, db: ${errs.map((e) => e.toExponential(1)).join(', ')}`);
      t.deepEqual(ours[0].shape, a.shape);
      t.deepEqual(ours[1].shape, b.shape);
      for (const e of errs) t.true(e < 1e-5, `relative error ${e}`);
    });
  });
}

test.serial('matMulPerBatch: operands that do not chain are rejected, naming both shapes', async (t) => {
  await tf.setBackend('cpu');
  tf.tidy(() => {
    const err = t.throws(() => matMulPerBatch(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 6])));
    t.regex(err!.message, /a float32 \[2,3,4\] and b float32 \[2,5,6\]/);
    t.throws(() => matMulPerBatch(tf.zeros([2, 3, 4]), tf.zeros([3, 4, 6])), { message: /expected float32 a \[n, m, k\] and b \[n, k, p\]/ });
  });
});
