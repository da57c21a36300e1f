import test from 'ava';
import { datasetHash } from './dataset-hash';
import type { Dataset, Example } from './dataset';

const i32 = (a: number[]) => Int32Array.from(a);

// Expected digests from an independent Python transcription of the documented encoding
// (hashlib.sha256 over struct.pack('<I', ...), '<i' ids, '<d' label, compact JSON label names).
const sample: Dataset = {
  numLabels: 2,
  labelNames: ['neg', 'pos'],
  examples: [
    { inputIds: i32([2, 31, 3]), tokenTypeIds: i32([0, 0, 0]), attentionMask: i32([1, 1, 1]), label: 1 },
    { inputIds: i32([2, 3]), label: 0 },
  ],
};

test('datasetHash matches the reference digests of its documented encoding', (t) => {
  t.is(datasetHash(sample), 'd2f244d29e03763e2ca9dea40a1380c5d824b6acf512ce41a260b836661b4477');
  t.is(
    datasetHash({ numLabels: 1, examples: [{ inputIds: i32([5, -1]), attentionMask: i32([1, 0]), label: 0.25 }] }),
    'ba3c7295cd0d150ac8adcf644f68fda981aee5a37d745dfe10c2b55cb7b78a42',
  );
});

test('any change of content changes the hash; equal content in new arrays does not', (t) => {
  const base = datasetHash(sample);
  const copy: Dataset = { ...sample, examples: sample.examples.map((e) => ({ ...e, inputIds: i32(Array.from(e.inputIds)) })) };
  t.is(datasetHash(copy), base);
  const variants: Dataset[] = [
    { ...sample, numLabels: 3 },
    { ...sample, labelNames: ['pos', 'neg'] },
    { ...sample, examples: [...sample.examples].reverse() },
    { ...sample, examples: [{ ...sample.examples[0], label: 0 }, sample.examples[1]] },
    { ...sample, examples: [{ ...sample.examples[0], inputIds: i32([2, 31, 4]) }, sample.examples[1]] },
    { ...sample, examples: [{ ...sample.examples[0], attentionMask: undefined } as Example, sample.examples[1]] },
    { ...sample, examples: [sample.examples[0], { ...sample.examples[1], tokenTypeIds: i32([0, 0]) }] },
  ];
  const hashes = new Set(variants.map(datasetHash));
  t.is(hashes.size, variants.length);
  t.false(hashes.has(base));
  t.throws(() => datasetHash({ numLabels: 2, examples: [{ inputIds: i32([1, 2]), attentionMask: i32([1]), label: 0 }] }), { code: 'DATA_ERR_BAD_FIELD' });
});

test('answer-span labels hash by both positions, and apart from a class label of the same start', (t) => {
  const qa = (start: number, end: number) => ({ numLabels: 2, examples: [{ inputIds: i32([2, 5, 3]), label: [start, end] as const }] });
  t.is(datasetHash(qa(1, 2)), datasetHash(qa(1, 2)));
  t.not(datasetHash(qa(1, 2)), datasetHash(qa(1, 1)));
  t.not(datasetHash(qa(1, 2)), datasetHash(qa(2, 2)));
  t.not(datasetHash(qa(1, 1)), datasetHash({ numLabels: 2, examples: [{ inputIds: i32([2, 5, 3]), label: 1 }] }));
});
