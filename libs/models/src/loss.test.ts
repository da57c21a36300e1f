import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { sequenceClassificationLoss } from './loss';

const logits = [
  [2.0, -1.0, 0.5],
  [-30.0, 40.0, 1.0], // large spread: a naive exp would overflow float32
  [0.1, 0.2, 0.3],
];
const labels = [0, 2, 1];

// Cross-entropy in float64: logsumexp(row) - row[label].
function plainCrossEntropy(rows: number[][], ys: number[]): number[] {
  return rows.map((row, i) => {
    const m = Math.max(...row);
    return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[ys[i]];
  });
}

test('cross-entropy matches a plain float64 computation, sum and mean', (t) => {
  const per = plainCrossEntropy(logits, labels);
  const sum = per.reduce((a, b) => a + b, 0);
  const x = tf.tensor2d(logits);
  const y = tf.tensor1d(labels, 'int32');
  const s = sequenceClassificationLoss(x, y, 3, 'sum');
  const m = sequenceClassificationLoss(x, y, 3, 'mean');
  t.true(Math.abs(s.dataSync()[0] - sum) < 1e-4 * Math.max(1, sum), `${s.dataSync()[0]} vs ${sum}`);
  t.true(Math.abs(m.dataSync()[0] - sum / 3) < 1e-4 * Math.max(1, sum / 3));
  [x, y, s, m].forEach((v) => v.dispose());
});

test('the sum over micro-batches equals the sum over the whole batch, and its gradient too', (t) => {
  const x = tf.variable(tf.tensor2d(logits));
  const y = tf.tensor1d(labels, 'int32');
  const whole = tf.variableGrads(() => sequenceClassificationLoss(x, y, 3, 'mean'), [x]);
  const parts = [
    [0, 2],
    [2, 1],
  ].map(([begin, size]) =>
    tf.variableGrads(() => sequenceClassificationLoss(x.slice([begin, 0], [size, 3]), y.slice([begin], [size]), 3, 'sum'), [x]),
  );
  const total = parts.reduce((a, p) => a + p.value.dataSync()[0], 0);
  t.true(Math.abs(total / 3 - whole.value.dataSync()[0]) < 1e-5);
  const g = tf.tidy(() => parts[0].grads[x.name].add(parts[1].grads[x.name]).div(3));
  const diff = tf.tidy(() => g.sub(whole.grads[x.name]).abs().max().dataSync()[0]);
  t.true(diff < 1e-6);
  // d(CE)/d(logits) = softmax - onehot, in float64
  const expected = logits.map((row, i) => {
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    return row.map((v, j) => (Math.exp(v - m) / z - (j === labels[i] ? 1 : 0)) / 3);
  });
  const got = whole.grads[x.name].arraySync() as number[][];
  expected.forEach((row, i) => row.forEach((v, j) => t.true(Math.abs(got[i][j] - v) < 1e-6)));
  tf.dispose([x, y, g, whole.value, ...Object.values(whole.grads), ...parts.flatMap((p) => [p.value, ...Object.values(p.grads)])]);
});

test('numLabels 1 is MSE regression on float labels, sum and mean', (t) => {
  const x = tf.tensor2d([[0.5], [-1.25], [3]]);
  const y = tf.tensor1d([1, -1, 2.5]);
  const se = [0.25, 0.0625, 0.25];
  const s = sequenceClassificationLoss(x, y, 1, 'sum');
  const m = sequenceClassificationLoss(x, y, 1, 'mean');
  t.true(Math.abs(s.dataSync()[0] - 0.5625) < 1e-6);
  t.true(Math.abs(m.dataSync()[0] - se.reduce((a, b) => a + b) / 3) < 1e-6);
  [x, y, s, m].forEach((v) => v.dispose());
});

test('labels of the wrong dtype, shape or range are refused', (t) => {
  const x = tf.tensor2d(logits);
  t.throws(() => sequenceClassificationLoss(x, tf.tensor1d([0, 1, 2]), 3, 'sum'), { message: /classification \(numLabels 3\) needs int32 labels, got float32/ });
  t.throws(() => sequenceClassificationLoss(x, tf.tensor1d([0, 1], 'int32'), 3, 'sum'), { message: /labels must be \[3\], got \[2\]/ });
  t.throws(() => sequenceClassificationLoss(x, tf.tensor1d([0, -100, 1], 'int32'), 3, 'sum'), { message: /label -100 of row 1 is outside \[0, 3\)/ });
  t.throws(() => sequenceClassificationLoss(x, tf.tensor1d([0, 3, 1], 'int32'), 3, 'sum'), { message: /label 3 of row 1/ });
  t.throws(() => sequenceClassificationLoss(x, tf.tensor1d([0, 1, 1], 'int32'), 2, 'sum'), { message: /logits must be \[batch, 2\], got \[3,3\]/ });
  t.throws(() => sequenceClassificationLoss(tf.tensor2d([[1]]), tf.tensor1d([1], 'int32'), 1, 'mean'), { message: /regression \(numLabels 1\) needs float32 labels/ });
  t.throws(() => sequenceClassificationLoss(x, tf.tensor1d([0, 1, 1], 'int32'), 3, 'avg' as 'sum'), { message: /reduction must be 'sum' or 'mean'/ });
});

test('the loss leaves no tensors behind', (t) => {
  const x = tf.tensor2d(logits);
  const y = tf.tensor1d(labels, 'int32');
  sequenceClassificationLoss(x, y, 3, 'mean').dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) sequenceClassificationLoss(x, y, 3, 'sum').dispose();
  t.is(tf.memory().numTensors, before);
  x.dispose();
  y.dispose();
});
