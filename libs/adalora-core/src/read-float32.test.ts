import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFloat32 } from './read-float32';

for (const backend of ['cpu', 'wasm']) {
  test.serial(`${backend}: gives the tensor's values (variables, op outputs, views after assign)`, async (t) => {
    await tf.setBackend(backend);
    const v = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]));
    t.deepEqual(Array.from(readFloat32(v)), [1, 2, 3, 4, 5, 6]);
    v.assign(tf.tidy(() => v.mul(2)));
    t.deepEqual(Array.from(readFloat32(v)), [2, 4, 6, 8, 10, 12]);
    const y = tf.tidy(() => tf.matMul(v, v.transpose()));
    t.deepEqual(Array.from(readFloat32(y)), Array.from(y.dataSync()));
    // on wasm the values are a view of the heap, not a copy
    if (backend === 'wasm') t.true(readFloat32(v).buffer.byteLength > v.size * 4);
    const empty = tf.zeros([0, 4]);
    t.is(readFloat32(empty).length, 0);
    tf.dispose([v, y, empty]);
  });
}

test.serial('a tensor made on cpu is read after switching to wasm; non-float32 is refused', async (t) => {
  await tf.setBackend('cpu');
  const x = tf.tensor1d([0.5, -1.5]);
  await tf.setBackend('wasm');
  t.deepEqual(Array.from(readFloat32(x)), [0.5, -1.5]);
  t.throws(() => readFloat32(tf.tensor1d([1], 'int32')), { message: /expected a float32 tensor, got int32/ });
  x.dispose();
});
