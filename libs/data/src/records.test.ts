import test from 'ava';
import { field, formatFromPath, parseRecords } from './records';

test('TSV/CSV rows become records keyed by header, with their lines', (t) => {
  const table = parseRecords('sentence\tlabel\nit works\t1\n\nit fails\t0\n', 'tsv', 'train.tsv');
  t.deepEqual(table.columns, ['sentence', 'label']);
  t.deepEqual(table.records.map((r) => [r.line, r.fields.sentence, r.fields.label]), [
    [2, 'it works', '1'],
    [4, 'it fails', '0'],
  ]);
  const noHeader = parseRecords('a,1\nb,0\n', 'csv', 'x.csv', { header: false });
  t.is(noHeader.columns, undefined);
  t.deepEqual(noHeader.records.map((r) => r.fields), [{ 0: 'a', 1: '1' }, { 0: 'b', 1: '0' }]);
});

test('ragged rows, empty files and header-only files are errors with file and line', (t) => {
  t.throws(() => parseRecords('a\tb\n1\t2\n3\n', 'tsv', 'dev.tsv'), {
    code: 'DATA_ERR_RAGGED_ROW',
    message: 'dev.tsv:3: row has 1 fields, expected 2 (as the header)',
  });
  t.throws(() => parseRecords('a,b\n1,2,3\n', 'csv', 'x.csv', { header: false }), { code: 'DATA_ERR_RAGGED_ROW', message: /^x\.csv:2: .*the first row/ });
  t.throws(() => parseRecords('', 'csv', 'e.csv'), { code: 'DATA_ERR_EMPTY_FILE', message: /^e\.csv: / });
  t.throws(() => parseRecords('\n\n', 'jsonl', 'e.jsonl'), { code: 'DATA_ERR_EMPTY_FILE' });
  t.throws(() => parseRecords('a,b\n', 'csv', 'h.csv'), { code: 'DATA_ERR_EMPTY_FILE', message: /^h\.csv:1: only a header row/ });
});

test('JSONL: one object per line, blank lines skipped, bad lines named', (t) => {
  const table = parseRecords('{"text":"a","label":1}\n\n{"text":"b","label":0}\r\n', 'jsonl', 'd.jsonl');
  t.deepEqual(table.records.map((r) => r.line), [1, 3]);
  t.is(table.records[1].fields.text, 'b');
  t.throws(() => parseRecords('{"a":1}\n{"a":\n', 'jsonl', 'd.jsonl'), { code: 'DATA_ERR_INVALID_JSON', message: /^d\.jsonl:2: invalid JSON on line 2/ });
  t.throws(() => parseRecords('[1,2]\n', 'jsonl', 'd.jsonl'), { code: 'DATA_ERR_INVALID_JSON', message: /line 1 is not a JSON object/ });
});

test('field() names the missing column, file and line', (t) => {
  const table = parseRecords('{"text":"a"}\n', 'jsonl', 'd.jsonl');
  t.is(field(table, table.records[0], 'text'), 'a');
  t.throws(() => field(table, table.records[0], 'label'), { code: 'DATA_ERR_MISSING_COLUMN', message: 'd.jsonl:1: missing column "label"' });
});

test('formats follow the extension', (t) => {
  t.is(formatFromPath('glue/SST-2/train.tsv'), 'tsv');
  t.is(formatFromPath('a.CSV'), 'csv');
  t.is(formatFromPath('a.jsonl'), 'jsonl');
  t.is(formatFromPath('a.txt'), undefined);
});
