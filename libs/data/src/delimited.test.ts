import test from 'ava';
import { parseDelimited } from './delimited';

const csv = (text: string) => parseDelimited(text, { delimiter: ',', quoting: true, source: 'x.csv' });
const tsv = (text: string) => parseDelimited(text, { delimiter: '\t', quoting: false, source: 'x.tsv' });
const fields = (rows: ReturnType<typeof csv>) => rows.map((r) => r.fields);

test('plain CSV rows, LF and CRLF, no record after the final line break', (t) => {
  t.deepEqual(fields(csv('a,b\n1,2\n')), [['a', 'b'], ['1', '2']]);
  t.deepEqual(fields(csv('a,b\r\n1,2\r\n3,4')), [['a', 'b'], ['1', '2'], ['3', '4']]);
  t.deepEqual(fields(csv('a,,\n')), [['a', '', '']]);
});

test('quoted fields hold commas, doubled quotes and line breaks (RFC 4180)', (t) => {
  const rows = csv('text,label\n"hello, world",1\n"say ""hi""",0\n"two\nlines\r\nhere",1\nlast,0\n');
  t.deepEqual(fields(rows), [
    ['text', 'label'],
    ['hello, world', '1'],
    ['say "hi"', '0'],
    ['two\nlines\r\nhere', '1'],
    ['last', '0'],
  ]);
  // Line numbers are where each record starts; the multi-line field pushes the next one down.
  t.deepEqual(rows.map((r) => r.line), [1, 2, 3, 4, 7]);
  t.deepEqual(fields(csv('"",""\n')), [['', '']]);
  t.deepEqual(fields(csv('a,"b"')), [['a', 'b']]);
});

test('a quote inside an unquoted field is literal; BOM and blank lines are dropped', (t) => {
  t.deepEqual(fields(csv('\uFEFFa,5" screen\n\n\nb,c\n')), [['a', '5" screen'], ['b', 'c']]);
  const rows = csv('a\n\nb\n');
  t.deepEqual(rows.map((r) => r.line), [1, 3]);
});

test('malformed quoting is reported with its line', (t) => {
  t.throws(() => csv('a,b\n1,"never closed\n2,3\n'), { code: 'DATA_ERR_BAD_QUOTE', message: /^x\.csv:2: quoted field opened on line 2 is never closed/ });
  t.throws(() => csv('a,b\n"x"y,1\n'), { code: 'DATA_ERR_BAD_QUOTE', message: /^x\.csv:2: unexpected "y" after a closing quote/ });
});

test('TSV without quoting keeps quotes literally (GLUE files)', (t) => {
  t.deepEqual(fields(tsv('sentence\tlabel\n"it \'s a "  film\t1\r\nx\t0\n')), [
    ['sentence', 'label'],
    ['"it \'s a "  film', '1'],
    ['x', '0'],
  ]);
  t.throws(() => parseDelimited('a', { delimiter: '"', quoting: true }), { code: 'DATA_ERR_BAD_OPTION' });
});
