import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DropoutStream, seededDropout, withDropoutStream } from './dropout-stream';

const X = () => tf.range(1, 4097).reshape([64, 64]); // no zeros, so a kept element is never 0

/** The values of two dropout calls in one pass of the stream `key`, on `backend`. */
async function twoCalls(backend: string, key: string): Promise<[Float32Array, Float32Array]> {
  await tf.setBackend(backend);
  const draw = () => tf.tidy(() => seededDropout(X(), 0.1).dataSync() as Float32Array);
  return withDropoutStream(new DropoutStream(key), () => {
    const first = draw();
    return [first, draw()];
  });
}

test.serial('the same stream gives the same masks, on cpu and wasm alike; each call and each key its own', async (t) => {
  const [a1, a2] = await twoCalls('cpu', DropoutStream.forMicroBatch(42, 3, 1).key);
  const [b1, b2] = await twoCalls('wasm', DropoutStream.forMicroBatch(42, 3, 1).key);
  t.deepEqual(b1, a1, 'first call, wasm vs cpu');
  t.deepEqual(b2, a2, 'second call, wasm vs cpu');
  t.notDeepEqual(a2, a1, 'the second call draws its own mask');
  const [c1] = await twoCalls('wasm', DropoutStream.forMicroBatch(42, 4, 1).key);
  const [d1] = await twoCalls('wasm', DropoutStream.forMicroBatch(42, 3, 2).key);
  t.notDeepEqual(c1, a1, 'another step, another mask');
  t.notDeepEqual(d1, a1, 'another micro-batch, another mask');
  const dropped = a1.filter((v) => v === 0).length / a1.length;
  t.true(dropped > 0.07 && dropped < 0.13, `about 10% dropped, got ${dropped}`);
  const x = X().dataSync();
  t.true(a1.every((v, i) => v === 0 || Math.abs(v - x[i] / 0.9) <= 1e-6 * v), 'kept elements scaled by 1 / (1 - rate)');
});

test.serial('the gradient goes through the mask the forward pass used', async (t) => {
  await tf.setBackend('wasm');
  const x = X();
  const w = tf.randomNormal([64, 64], 0, 1, 'float32', 7);
  const key = DropoutStream.forMicroBatch(1, 0, 0).key;
  // d/dx Σ (dropout(x) ⊙ w) = mask ⊙ w / (1 - rate), with mask read back from the forward output
  const { value, grad } = withDropoutStream(new DropoutStream(key), () => tf.valueAndGrad((v: tf.Tensor) => seededDropout(v, 0.1).mul(w).sum())(x));
  const y = withDropoutStream(new DropoutStream(key), () => seededDropout(x, 0.1));
  const expected = tf.tidy(() => y.notEqual(0).toFloat().mul(w).div(0.9));
  const got = grad.dataSync();
  const want = expected.dataSync();
  t.true(got.every((g, i) => Math.abs(g - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i]))), 'gradient = mask · w / 0.9');
  t.is(value.dataSync()[0], tf.tidy(() => y.mul(w).sum().dataSync()[0]), 'forward value matches the replayed mask');
  tf.dispose([x, w, value, grad, y, expected]);
});

test.serial('scopes nest and restore the outer stream; outside any, dropout is unseeded', async (t) => {
  await tf.setBackend('cpu');
  const draw = () => tf.tidy(() => Array.from(seededDropout(X(), 0.5).dataSync()));
  const outerFirst = withDropoutStream(new DropoutStream('outer'), draw);
  const [, afterInner] = withDropoutStream(new DropoutStream('outer'), () => {
    const first = draw();
    withDropoutStream(new DropoutStream('inner'), draw);
    return [first, draw()];
  });
  const outerSecond = withDropoutStream(new DropoutStream('outer'), () => (draw(), draw()));
  t.deepEqual(afterInner, outerSecond, 'the inner scope did not consume the outer stream');
  t.notDeepEqual(outerFirst, outerSecond);
  t.notDeepEqual(draw(), draw(), 'unseeded outside a stream');
  t.throws(() => withDropoutStream(new DropoutStream('a'), async () => 1), { message: /synchronous/ });
  t.throws(() => DropoutStream.forMicroBatch(1, -1, 0), { message: /step must be an integer ≥ 0/ });
});
