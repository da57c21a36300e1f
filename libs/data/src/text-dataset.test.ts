import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixturePath } from '@adalora/test-support';
import { loadTextDataset, textDatasetFromString } from './text-dataset';
import { loadTokenizer } from './tokenizer';

const tokDir = fixturePath('tokenizer');
const tokenizer = loadTokenizer(tokDir);
const ref = JSON.parse(readFileSync(path.join(tokDir, 'reference.json'), 'utf8')) as {
  single: { text: string; ids: number[] }[];
  pair: { a: string; b: string; ids: number[]; type_ids: number[] }[];
};
const ids = (a: Int32Array | undefined) => Array.from(a ?? []);

test('GLUE-style TSV: one text column, string labels mapped by sorted distinct values', (t) => {
  const tsv = `sentence\tlabel\n${ref.single[0].text}\tpos\n${ref.single[1].text}\tneg\nbad\tpos\n`;
  const ds = textDatasetFromString(tsv, { format: 'tsv', text: 'sentence', label: 'label', tokenizer }, 'sst.tsv');
  t.deepEqual(ds.labelNames, ['neg', 'pos']);
  t.is(ds.numLabels, 2);
  t.deepEqual(ds.examples.map((e) => e.label), [1, 0, 1]);
  t.deepEqual(ids(ds.examples[0].inputIds), ref.single[0].ids);
  t.deepEqual(ids(ds.examples[1].inputIds), ref.single[1].ids);
  t.deepEqual(ids(ds.examples[0].attentionMask), ref.single[0].ids.map(() => 1));
});

test('CSV text pairs with quoting give the HF pair encodings; a label list fixes the ids', (t) => {
  const csv = ['premise,hypothesis,label', ...ref.pair.map((p, i) => `"${p.a}","${p.b}",${i === 0 ? 'entailment' : 'contradiction'}`)].join('\r\n');
  const ds = textDatasetFromString(csv, {
    format: 'csv',
    text: ['premise', 'hypothesis'],
    label: 'label',
    labels: ['entailment', 'neutral', 'contradiction'],
    tokenizer,
  });
  t.is(ds.numLabels, 3);
  t.deepEqual(ds.labelNames, ['entailment', 'neutral', 'contradiction']);
  t.deepEqual(ds.examples.map((e) => e.label), [0, 2]);
  ref.pair.forEach((p, i) => {
    t.deepEqual(ids(ds.examples[i].inputIds), p.ids);
    t.deepEqual(ids(ds.examples[i].tokenTypeIds), p.type_ids);
  });
});

test('numeric class labels sort numerically; JSONL numbers and strings mix', (t) => {
  const jsonl = ['{"t":"a","y":10}', '{"t":"b","y":"2"}', '{"t":"c","y":2.0}', '{"t":"d","y":1}'].join('\n');
  const ds = textDatasetFromString(jsonl, { format: 'jsonl', text: 't', label: 'y', tokenizer });
  t.deepEqual(ds.labelNames, ['1', '2', '10']);
  t.deepEqual(ds.examples.map((e) => e.label), [2, 1, 1, 0]);
});

test("a split read with another split's label names: numeric labels written otherwise ('1.0') find their class; an unknown one names the file, line and where the names came from", (t) => {
  const opts = { format: 'tsv' as const, text: 'sentence', label: 'label', tokenizer };
  const train = textDatasetFromString('sentence\tlabel\na\t0\nb\t1\nc\t2\n', opts, 'train.tsv');
  t.deepEqual(train.labelNames, ['0', '1', '2']);
  const dev = textDatasetFromString('sentence\tlabel\na\t2\nb\t1.0\n', { ...opts, labels: train.labelNames, labelSource: 'the labels of train.tsv' }, 'dev.tsv');
  t.deepEqual(dev.examples.map((e) => e.label), [2, 1]);
  t.throws(() => textDatasetFromString('sentence\tlabel\na\t2\nb\t3\n', { ...opts, labels: train.labelNames, labelSource: 'the labels of train.tsv' }, 'dev.tsv'), {
    message: 'dev.tsv:3: label "3" is not one of "0", "1", "2" (the labels of train.tsv)',
  });
});

test('regression labels are numbers and numLabels is 1', (t) => {
  const ds = textDatasetFromString('s1,s2,score\ngood,bad,3.8\nthe,the,5\n', {
    format: 'csv',
    text: ['s1', 's2'],
    label: 'score',
    task: 'regression',
    tokenizer,
  });
  t.is(ds.numLabels, 1);
  t.is(ds.labelNames, undefined);
  t.deepEqual(ds.examples.map((e) => e.label), [3.8, 5]);
  t.throws(
    () => textDatasetFromString('s,score\ngood,3.8\nbad,high\n', { format: 'csv', text: 's', label: 'score', task: 'regression', tokenizer }, 'r.csv'),
    { code: 'DATA_ERR_BAD_LABEL', message: 'r.csv:3: regression label "high" is not a finite number' },
  );
});

test('header-less TSV (CoLA layout) by column numbers', (t) => {
  const tsv = 'gj04\t1\t\tThe movie was very good!\ngj04\t0\t*\tnot bad, the plot acting\n';
  const ds = textDatasetFromString(tsv, { format: 'tsv', header: false, text: 3, label: 1, tokenizer });
  t.deepEqual(ds.examples.map((e) => e.label), [1, 0]);
  t.deepEqual(ids(ds.examples[0].inputIds), ref.single[0].ids);
  t.throws(() => textDatasetFromString(tsv, { format: 'tsv', header: false, text: 4, label: 1, tokenizer }, 'cola.tsv'), {
    code: 'DATA_ERR_MISSING_COLUMN',
    message: 'cola.tsv:1: missing column 4: rows have 4 columns (0-based)',
  });
});

test('errors name the file, line and problem', (t) => {
  const opts = { format: 'csv' as const, text: 'text', label: 'label', tokenizer };
  t.throws(() => textDatasetFromString('txt,label\na,1\n', opts, 'a.csv'), {
    code: 'DATA_ERR_MISSING_COLUMN',
    message: 'a.csv:1: missing column "text": the header has "txt", "label"',
  });
  t.throws(() => textDatasetFromString('text,label\na,1\nb,\n', opts, 'b.csv'), { code: 'DATA_ERR_BAD_LABEL', message: /^b\.csv:3: label "" / });
  t.throws(() => textDatasetFromString('text,label\na,yes\nb,maybe\n', { ...opts, labels: ['no', 'yes'] }, 'c.csv'), {
    code: 'DATA_ERR_BAD_LABEL',
    message: 'c.csv:3: label "maybe" is not one of "no", "yes"',
  });
  t.throws(() => textDatasetFromString('{"text":"a","label":1}\n{"label":0}\n', { ...opts, format: 'jsonl' }, 'd.jsonl'), {
    code: 'DATA_ERR_MISSING_COLUMN',
    message: 'd.jsonl:2: missing column "text"',
  });
  t.throws(() => textDatasetFromString('{"text":3,"label":1}\n', { ...opts, format: 'jsonl' }, 'e.jsonl'), {
    code: 'DATA_ERR_BAD_FIELD',
    message: 'e.jsonl:1: column "text" must be a string, got number',
  });
  // A tokenizer error (here: truncation impossible) is located too.
  t.throws(
    () => textDatasetFromString('a,b,label\nthe movie,the plot,1\n', { ...opts, text: ['a', 'b'], encode: { maxLength: 2, truncation: 'longest_first' } }, 'f.csv'),
    { code: 'DATA_ERR_TRUNCATION', message: /^f\.csv:2: maxLength 2 is smaller than the 3 special tokens/ },
  );
});

test('loadTextDataset reads files and infers the format from the extension', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adalora-data-'));
  try {
    const file = path.join(dir, 'train.jsonl');
    writeFileSync(file, `{"text":${JSON.stringify(ref.single[0].text)},"label":"x"}\n`);
    const ds = loadTextDataset(file, { text: 'text', label: 'label', tokenizer, encode: { maxLength: 10, padding: 'max_length' } });
    t.deepEqual(ids(ds.examples[0].inputIds), [...ref.single[0].ids, 0, 0]);
    t.deepEqual(ids(ds.examples[0].attentionMask), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    t.deepEqual(ds.labelNames, ['x']);
    const txt = path.join(dir, 'train.txt');
    writeFileSync(txt, 'x');
    t.throws(() => loadTextDataset(txt, { text: 'text', label: 'label', tokenizer }), { code: 'DATA_ERR_BAD_OPTION', message: /cannot tell the format/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
