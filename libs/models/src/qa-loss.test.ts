import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { questionAnsweringLoss } from './qa-loss';

// −log softmax(row)[k], computed by hand in float64.
const nll = (row: number[], k: number) => Math.log(row.reduce((s, x) => s + Math.exp(x), 0)) - row[k];

const start = [
  [0.5, 2, -1, 0],
  [1, 0, 3, -2],
  [0, 0, 0, 1],
];
const end = [
  [1, -1, 2, 0.5],
  [0, 1, 0, 0],
  [2, 1, 0, -1],
];

test('mean of start and end cross-entropies; positions clamped to [0, seq], seq ignored', (t) => {
  // seq = 4: start 7 → 4 is ignored; end −3 → 0 is kept (clamping never ignores a negative)
  const sp = [1, 7, 3];
  const ep = [2, -3, 4];
  const startLoss = (nll(start[0], 1) + nll(start[2], 3)) / 2; // row 1 ignored
  const endLoss = (nll(end[0], 2) + nll(end[1], 0)) / 2; // row 2 ignored (4 = seq)
  const args = [tf.tensor2d(start), tf.tensor2d(end), tf.tensor1d(sp, 'int32'), tf.tensor1d(ep, 'int32')] as const;
  const mean = questionAnsweringLoss(...args);
  t.true(Math.abs(mean.dataSync()[0] - (startLoss + endLoss) / 2) < 1e-6, `${mean.dataSync()[0]} vs ${(startLoss + endLoss) / 2}`);
  // 'sum': Σ rows (start + end) / 2, ignored sides counting 0
  const sum = questionAnsweringLoss(...args, 'sum');
  const expectedSum = (nll(start[0], 1) + nll(end[0], 2) + nll(end[1], 0) + nll(start[2], 3)) / 2;
  t.true(Math.abs(sum.dataSync()[0] - expectedSum) < 1e-6);
  [mean, sum, ...args].forEach((x) => x.dispose());
});

test('without ignored rows, sum = mean × batch; every row ignored on one side gives NaN as torch', (t) => {
  const s = tf.tensor2d(start);
  const e = tf.tensor2d(end);
  const sp = tf.tensor1d([0, 2, 3], 'int32');
  const ep = tf.tensor1d([3, 3, 0], 'int32');
  const mean = questionAnsweringLoss(s, e, sp, ep).dataSync()[0];
  const sum = questionAnsweringLoss(s, e, sp, ep, 'sum').dataSync()[0];
  t.true(Math.abs(sum - 3 * mean) < 1e-5);
  const far = tf.tensor1d([9, 9, 9], 'int32');
  t.true(Number.isNaN(questionAnsweringLoss(s, e, far, ep).dataSync()[0]));
  const before = tf.memory().numTensors;
  questionAnsweringLoss(s, e, sp, ep).dispose();
  t.is(tf.memory().numTensors, before);
  [s, e, sp, ep, far].forEach((x) => x.dispose());
});

test('malformed inputs are refused with the argument named', (t) => {
  const s = tf.tensor2d(start);
  const p = tf.tensor1d([0, 1, 2], 'int32');
  t.throws(() => questionAnsweringLoss(s, tf.zeros([3, 5]) as tf.Tensor2D, p, p), { message: /endLogits must be \[3, 4\]/ });
  t.throws(() => questionAnsweringLoss(s, s, tf.tensor1d([0, 1, 2]), p), { message: /startPositions must be int32 \[3\], got float32/ });
  t.throws(() => questionAnsweringLoss(s, s, p, tf.tensor1d([0, 1], 'int32')), { message: /endPositions must be int32 \[3\]/ });
  t.throws(() => questionAnsweringLoss(s, s, p, p, 'max' as 'sum'), { message: /reduction must be 'sum' or 'mean'/ });
});

test('the gradient on start logits is (softmax − one-hot) / (2 · kept rows), zero on an ignored row', (t) => {
  const e = tf.tensor2d(end);
  const sp = tf.tensor1d([1, 7, 3], 'int32');
  const ep = tf.tensor1d([0, 0, 0], 'int32');
  const g = tf.grad((s: tf.Tensor) => questionAnsweringLoss(s as tf.Tensor2D, e, sp, ep))(tf.tensor2d(start));
  const rows = g.arraySync() as number[][];
  const softmax = (row: number[]) => row.map((x) => Math.exp(x) / row.reduce((a, y) => a + Math.exp(y), 0));
  const expected = [0, 1, 2].map((r) => (r === 1 ? [0, 0, 0, 0] : softmax(start[r]).map((p, k) => (p - (k === [1, 7, 3][r] ? 1 : 0)) / 4)));
  rows.flat().forEach((v, i) => t.true(Math.abs(v - expected.flat()[i]) < 1e-6, `${i}: ${v} vs ${expected.flat()[i]}`));
  [e, sp, ep, g].forEach((x) => x.dispose());
});
