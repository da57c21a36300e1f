import test from 'ava';
import { collate } from './collate';
import type { Example } from './dataset';

const ex = (ids: number[], label: number, extra: Partial<Example> = {}): Example => ({ inputIds: Int32Array.from(ids), label, ...extra });

test('pads right to the longest row with padId, mask 0 on padding, int labels', (t) => {
  const b = collate([ex([2, 7, 3], 1), ex([2, 3], 0), ex([2, 8, 9, 3], 2)], { padId: 0 });
  t.deepEqual([b.rows, b.seq], [3, 4]);
  t.deepEqual(Array.from(b.inputIds), [2, 7, 3, 0, 2, 3, 0, 0, 2, 8, 9, 3]);
  t.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1]);
  t.is(b.tokenTypeIds, undefined);
  t.true(b.labels instanceof Int32Array);
  t.deepEqual(Array.from(b.labels), [1, 0, 2]);
});

test('padTo, token type ids and kept example masks', (t) => {
  const b = collate(
    [
      ex([2, 5, 3, 6, 3], 0, { tokenTypeIds: Int32Array.from([0, 0, 0, 1, 1]) }),
      // Already padded by the tokenizer: its own mask is kept.
      ex([2, 5, 3, 9], 1, { tokenTypeIds: Int32Array.from([0, 0, 0, 7]), attentionMask: Int32Array.from([1, 1, 1, 0]) }),
    ],
    { padTo: 6, padId: 9, padTypeId: 7 },
  );
  t.deepEqual([b.rows, b.seq], [2, 6]);
  t.deepEqual(Array.from(b.inputIds), [2, 5, 3, 6, 3, 9, 2, 5, 3, 9, 9, 9]);
  t.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0]);
  t.deepEqual(Array.from(b.tokenTypeIds!), [0, 0, 0, 1, 1, 7, 0, 0, 0, 7, 7, 7]);
});

test('regression labels are float32', (t) => {
  const b = collate([ex([1], 0.5), ex([1, 2], 3.25)], { padId: 0, regression: true });
  t.true(b.labels instanceof Float32Array);
  t.deepEqual(Array.from(b.labels), [0.5, 3.25]);
});

test('misuse is refused with what was expected', (t) => {
  t.throws(() => collate([], { padId: 0 }), { code: 'DATA_ERR_BAD_OPTION', message: /at least one example/ });
  t.throws(() => collate([ex([1, 2, 3], 0)], { padId: 0, padTo: 2 }), { code: 'DATA_ERR_BAD_OPTION', message: /padTo 2 must be an integer >= the longest example \(3 tokens\)/ });
  t.throws(() => collate([ex([1], 0, { tokenTypeIds: Int32Array.from([0]) }), ex([1], 0)], { padId: 0 }), { code: 'DATA_ERR_BAD_FIELD', message: /1 of 2 examples/ });
  t.throws(() => collate([ex([1], 0.5)], { padId: 0 }), { code: 'DATA_ERR_BAD_LABEL' });
});

test('answer-span labels (extractive QA) collate to int32 [rows, 2]: start, end per row', (t) => {
  const span = (ids: number[], start: number, end: number): Example => ({ inputIds: Int32Array.from(ids), label: [start, end] });
  const b = collate([span([2, 7, 3, 5, 3], 3, 3), span([2, 8, 3], 0, 0)], { padId: 0 });
  t.true(b.labels instanceof Int32Array);
  t.deepEqual([...b.labels], [3, 3, 0, 0]);
  t.throws(() => collate([span([2, 3], 1, 1), ex([2, 3], 0)], { padId: 0 }), { code: 'DATA_ERR_BAD_LABEL', message: /1 of 2 examples have answer spans/ });
  t.throws(() => collate([span([2, 3], -1, 0)], { padId: 0 }), { code: 'DATA_ERR_BAD_LABEL', message: /answer span \[-1, 0\]/ });
  t.throws(() => collate([span([2, 3], 1, 1)], { padId: 0, regression: true }), { code: 'DATA_ERR_BAD_OPTION' });
});
