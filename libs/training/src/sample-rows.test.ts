import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import type { SampleBatch } from '@adalora/protocol';
import { disposeEncoderInputs, gatherRows, sliceRows, toEncoderInputs } from './sample-rows';

test.before(async () => {
  await tf.setBackend('cpu');
});

const SEQ = 3;

/** rows × SEQ batch whose every value tells its row: input id = 10·row + col. */
function batch(rows: number, opts: { types?: boolean; regression?: boolean } = {}): SampleBatch {
  const grid = (f: (r: number, c: number) => number) => Int32Array.from({ length: rows * SEQ }, (_, i) => f(Math.floor(i / SEQ), i % SEQ));
  return {
    rows,
    seq: SEQ,
    inputIds: grid((r, c) => 10 * r + c),
    attentionMask: grid((r, c) => (c <= r % SEQ ? 1 : 0)),
    tokenTypeIds: opts.types ? grid((r, c) => (c + r) % 2) : undefined,
    labels: opts.regression ? Float32Array.from({ length: rows }, (_, r) => r + 0.5) : Int32Array.from({ length: rows }, (_, r) => r % 2),
  };
}

/** Row r of a flat [rows, SEQ] array. */
const row = (a: Int32Array, r: number) => [...a.subarray(r * SEQ, (r + 1) * SEQ)];

test('sliceRows: the rows [from, to), every array cut alike', (t) => {
  const b = batch(5, { types: true });
  const s = sliceRows(b, 1, 4);
  t.is(s.rows, 3);
  t.is(s.seq, SEQ);
  t.deepEqual([...s.inputIds], [10, 11, 12, 20, 21, 22, 30, 31, 32]);
  for (let r = 0; r < 3; r++) {
    t.deepEqual(row(s.attentionMask, r), row(b.attentionMask, r + 1));
    t.deepEqual(row(s.tokenTypeIds!, r), row(b.tokenTypeIds!, r + 1));
  }
  t.deepEqual([...s.labels], [1, 0, 1]);
  t.deepEqual([...sliceRows(b, 0, 5).inputIds], [...b.inputIds]);
  const empty = sliceRows(b, 2, 2);
  t.is(empty.rows, 0);
  t.is(empty.inputIds.length, 0);
});

test('sliceRows: copies, not views', (t) => {
  const b = batch(4, { types: true, regression: true });
  const s = sliceRows(b, 1, 3);
  for (const k of ['inputIds', 'attentionMask', 'tokenTypeIds', 'labels'] as const) {
    t.not(s[k]!.buffer, b[k]!.buffer, k);
  }
  s.inputIds[0] = -1;
  s.labels[0] = -1;
  t.is(b.inputIds[SEQ], 10);
  t.is(b.labels[1], 1.5);
  b.attentionMask[SEQ] = 7;
  t.not(s.attentionMask[0], 7);
});

test('sliceRows: tokenTypeIds stays absent; label array type kept', (t) => {
  const s = sliceRows(batch(3), 0, 2);
  t.is(s.tokenTypeIds, undefined);
  t.true(s.labels instanceof Int32Array);
  const r = sliceRows(batch(3, { regression: true }), 1, 3);
  t.true(r.labels instanceof Float32Array);
  t.deepEqual([...r.labels], [1.5, 2.5]);
});

test('sliceRows: out-of-range or non-integer rows are refused', (t) => {
  const b = batch(4);
  for (const [from, to] of [[0, 5], [-1, 2], [3, 2], [0.5, 2], [0, Number.NaN]]) {
    t.throws(() => sliceRows(b, from, to), { instanceOf: RangeError, message: /sliceRows: expected integers 0 <= from <= to <= rows \(4\)/ }, `${from}, ${to}`);
  }
});

test('gatherRows: picked rows in the given order, as copies', (t) => {
  const b = batch(5, { types: true, regression: true });
  const g = gatherRows(b, [4, 0, 2]);
  t.is(g.rows, 3);
  t.deepEqual([...g.inputIds], [40, 41, 42, 0, 1, 2, 20, 21, 22]);
  [4, 0, 2].forEach((src, i) => {
    t.deepEqual(row(g.attentionMask, i), row(b.attentionMask, src));
    t.deepEqual(row(g.tokenTypeIds!, i), row(b.tokenTypeIds!, src));
  });
  t.true(g.labels instanceof Float32Array);
  t.deepEqual([...g.labels], [4.5, 0.5, 2.5]);
  g.inputIds[0] = -1;
  t.is(b.inputIds[4 * SEQ], 40);
  // a contiguous gather is a slice
  t.deepEqual(gatherRows(batch(5), [1, 2, 3]), sliceRows(batch(5), 1, 4));
  t.true(gatherRows(batch(2), [1]).labels instanceof Int32Array);
});

test('gatherRows: out-of-range or non-integer rows are refused naming the index', (t) => {
  const b = batch(4);
  t.throws(() => gatherRows(b, [0, 4]), { instanceOf: RangeError, message: 'gatherRows: rows[1] must be an integer in [0, 4), got 4' });
  t.throws(() => gatherRows(b, [-1]), { message: /rows\[0\] must be an integer in \[0, 4\), got -1/ });
  t.throws(() => gatherRows(b, [1, 2.5]), { message: /rows\[1\]/ });
  t.is(gatherRows(b, []).rows, 0);
  t.is(gatherRows(b, [3, 3]).rows, 2); // repeats are allowed
});

test('toEncoderInputs: [rows, seq] int32 tensors holding the batch', (t) => {
  const b = batch(4, { types: true });
  const e = toEncoderInputs(b);
  t.teardown(() => disposeEncoderInputs(e));
  for (const [k, tensor] of [['inputIds', e.inputIds], ['attentionMask', e.attentionMask], ['tokenTypeIds', e.tokenTypeIds!]] as const) {
    t.deepEqual(tensor.shape, [4, SEQ], k);
    t.is(tensor.dtype, 'int32', k);
    t.deepEqual([...tensor.dataSync()], [...b[k]!], k);
  }
  const noTypes = toEncoderInputs(batch(2));
  t.is(noTypes.tokenTypeIds, undefined);
  t.deepEqual(noTypes.inputIds.shape, [2, SEQ]);
  disposeEncoderInputs(noTypes);
});

test.serial('toEncoderInputs then disposeEncoderInputs leaves tf.memory().numTensors unchanged', (t) => {
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    for (const types of [true, false]) {
      const e = toEncoderInputs(sliceRows(batch(6, { types }), i, 6));
      t.is(tf.memory().numTensors, before + (types ? 3 : 2));
      disposeEncoderInputs(e);
      t.is(tf.memory().numTensors, before);
    }
  }
});

test('toEncoderInputs: a batch whose arrays do not fit rows × seq is refused', (t) => {
  const b = batch(3);
  t.throws(() => toEncoderInputs({ ...b, rows: 4 }));
});

test('QA batches (int32 [rows, 2] answer spans): rows keep their start and end when sliced or gathered', (t) => {
  const b = { ...batch(4), labels: Int32Array.from({ length: 8 }, (_, i) => 100 * Math.floor(i / 2) + (i % 2)) }; // row r: [100r, 100r + 1]
  t.deepEqual([...sliceRows(b, 1, 3).labels], [100, 101, 200, 201]);
  const g = gatherRows(b, [3, 0]);
  t.deepEqual([...g.labels], [300, 301, 0, 1]);
  t.deepEqual(row(g.inputIds, 0), row(b.inputIds, 3));
  t.throws(() => sliceRows({ ...b, labels: new Int32Array(5) }, 0, 1), { instanceOf: RangeError, message: /expected 4 \(classes or targets\) or 8 int32 \(answer spans\)/ });
});
