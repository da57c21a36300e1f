import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { fixturePath } from '@adalora/test-support';
import { loadTokenizer, TextTokenizer } from './tokenizer';

const tokDir = fixturePath('tokenizer');

interface Ref {
  single: { text: string; ids: number[]; type_ids: number[] }[];
  pair: { a: string; b: string; ids: number[]; type_ids: number[] }[];
}
const ref = JSON.parse(readFileSync(path.join(tokDir, 'reference.json'), 'utf8')) as Ref;
const tokJson = JSON.parse(readFileSync(path.join(tokDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const tok = loadTokenizer(tokDir);
const CLS = 2;
const SEP = 3;

// Sequence ids of a single-text reference row, without [CLS] ... [SEP].
const seqIds = (i: number) => ref.single[i].ids.slice(1, -1);

test('single texts reproduce the HF reference ids and type ids', (t) => {
  for (const r of ref.single) {
    const e = tok.encode(r.text);
    t.deepEqual(Array.from(e.inputIds), r.ids, r.text);
    t.deepEqual(Array.from(e.tokenTypeIds), r.type_ids, r.text);
    t.deepEqual(Array.from(e.attentionMask), r.ids.map(() => 1));
  }
});

test('pairs reproduce the HF reference, including an empty second text', (t) => {
  for (const r of ref.pair) {
    const e = tok.encode(r.a, r.b);
    t.deepEqual(Array.from(e.inputIds), r.ids, `${r.a} | ${r.b}`);
    t.deepEqual(Array.from(e.tokenTypeIds), r.type_ids, `${r.a} | ${r.b}`);
  }
});

test('a tokenizer.json path works as well as its folder', (t) => {
  const byFile = loadTokenizer(path.join(tokDir, 'tokenizer.json'));
  t.deepEqual(Array.from(byFile.encode(ref.single[0].text).inputIds), ref.single[0].ids);
  t.is(byFile.numSpecialTokens(false), 2);
  t.is(byFile.numSpecialTokens(true), 3);
  t.throws(() => loadTokenizer(path.join(tokDir, 'nope.json')), { code: 'DATA_ERR_BAD_OPTION', message: /no tokenizer\.json/ });
});

// Text 0 has 6 sequence tokens, text 1 has 7 (see reference.json).
test('longest_first truncation of a pair cuts both halves as HF does', (t) => {
  const a = ref.single[0].text;
  const b = ref.single[1].text;
  t.is(seqIds(0).length, 6);
  t.is(seqIds(1).length, 7);
  // maxLength 10 → 7 sequence tokens; both exceed 7/2, so A keeps 3 and the longer B keeps 4.
  const e = tok.encode(a, b, { maxLength: 10, truncation: 'longest_first' });
  t.deepEqual(Array.from(e.inputIds), [CLS, ...seqIds(0).slice(0, 3), SEP, ...seqIds(1).slice(0, 4), SEP]);
  t.deepEqual(Array.from(e.tokenTypeIds), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  // maxLength 13 → budget 10: the shorter A (6) survives whole only if B keeps >= 6: 6+6 > 10, so 5/5.
  const f = tok.encode(a, b, { maxLength: 13, truncation: 'longest_first' });
  t.deepEqual(Array.from(f.inputIds), [CLS, ...seqIds(0).slice(0, 5), SEP, ...seqIds(1).slice(0, 5), SEP]);
  // Fits: nothing is cut.
  const g = tok.encode(a, b, { maxLength: 16, truncation: 'longest_first' });
  t.deepEqual(Array.from(g.inputIds), [CLS, ...seqIds(0), SEP, ...seqIds(1), SEP]);
});

test('only_first / only_second truncation and a single text', (t) => {
  const a = ref.single[0].text;
  const b = ref.single[1].text;
  const first = tok.encode(a, b, { maxLength: 12, truncation: 'only_first' });
  t.deepEqual(Array.from(first.inputIds), [CLS, ...seqIds(0).slice(0, 2), SEP, ...seqIds(1), SEP]);
  const second = tok.encode(a, b, { maxLength: 12, truncation: 'only_second' });
  t.deepEqual(Array.from(second.inputIds), [CLS, ...seqIds(0), SEP, ...seqIds(1).slice(0, 3), SEP]);
  const single = tok.encode(a, undefined, { maxLength: 5, truncation: 'longest_first' });
  t.deepEqual(Array.from(single.inputIds), [CLS, ...seqIds(0).slice(0, 3), SEP]);
  // Without truncation maxLength does not cut.
  t.is(tok.encode(a, undefined, { maxLength: 5 }).inputIds.length, 8);
  t.throws(() => tok.encode(a, b, { maxLength: 9, truncation: 'only_first' }), { code: 'DATA_ERR_TRUNCATION' });
  t.throws(() => tok.encode(a, b, { maxLength: 2, truncation: 'longest_first' }), {
    code: 'DATA_ERR_TRUNCATION',
    message: /smaller than the 3 special tokens/,
  });
  t.throws(() => tok.encode(a, b, { truncation: 'longest_first' }), { code: 'DATA_ERR_BAD_OPTION', message: /maxLength is required/ });
});

test('max_length padding uses the [PAD] id, mask 0 and type 0 on padding', (t) => {
  t.is(tok.padId, tok.tokenToId('[PAD]'));
  t.is(tok.padId, 0);
  const r = ref.pair[0];
  const e = tok.encode(r.a, r.b, { maxLength: 12, padding: 'max_length' });
  t.deepEqual(Array.from(e.inputIds), [...r.ids, 0, 0, 0, 0]);
  t.deepEqual(Array.from(e.attentionMask), [...r.ids.map(() => 1), 0, 0, 0, 0]);
  t.deepEqual(Array.from(e.tokenTypeIds), [...r.type_ids, 0, 0, 0, 0]);
  // 'longest' on one text is a no-op.
  t.is(tok.encode(r.a, r.b, { padding: 'longest' }).inputIds.length, r.ids.length);
});

test('encodeBatch pads to the longest row and matches row-by-row encoding', (t) => {
  const texts = ref.single.map((r) => r.text);
  const b = tok.encodeBatch(texts);
  const seq = Math.max(...ref.single.map((r) => r.ids.length));
  t.deepEqual(b.shape, [texts.length, seq]);
  ref.single.forEach((r, i) => {
    const row = Array.from(b.inputIds.subarray(i * seq, (i + 1) * seq));
    const pad = seq - r.ids.length;
    t.deepEqual(row, [...r.ids, ...new Array(pad).fill(0)]);
    t.deepEqual(Array.from(b.attentionMask.subarray(i * seq, (i + 1) * seq)), [...r.ids.map(() => 1), ...new Array(pad).fill(0)]);
  });
  const p = tok.encodeBatch(
    ref.pair.map((r) => r.a),
    ref.pair.map((r) => r.b),
    { maxLength: 10, padding: 'max_length', truncation: 'longest_first' },
  );
  t.deepEqual(p.shape, [2, 10]);
  t.deepEqual(Array.from(p.tokenTypeIds.subarray(10, 20)), [...ref.pair[1].type_ids, 0, 0, 0, 0, 0, 0]);
  t.throws(() => tok.encodeBatch(texts, undefined, { padding: false }), { code: 'DATA_ERR_BAD_OPTION' });
  t.throws(() => tok.encodeBatch(texts, ['x']), { code: 'DATA_ERR_BAD_OPTION', message: /4 texts but 1 pairs/ });
});

test('the pad id and pad type id come from tokenizer.json padding when present', (t) => {
  const withPadding = new TextTokenizer({ ...tokJson, padding: { pad_id: 4, pad_type_id: 1, pad_token: '[MASK]' } });
  t.is(withPadding.padId, 4);
  const e = withPadding.encode('bad', undefined, { maxLength: 5, padding: 'max_length' });
  t.deepEqual(Array.from(e.inputIds), [CLS, 35, SEP, 4, 4]);
  t.deepEqual(Array.from(e.tokenTypeIds), [0, 0, 0, 1, 1]);
  t.deepEqual(Array.from(e.attentionMask), [1, 1, 1, 0, 0]);
});

test('a tokenizer without a pad token refuses to pad but still encodes', (t) => {
  const model = tokJson.model as { vocab: Record<string, number> };
  const vocab = { ...model.vocab };
  delete vocab['[PAD]'];
  const noPad = new TextTokenizer({ ...tokJson, model: { ...model, vocab } });
  t.is(noPad.padId, undefined);
  t.deepEqual(Array.from(noPad.encode('bad').inputIds), [CLS, 35, SEP]);
  t.throws(() => noPad.encode('bad', undefined, { maxLength: 6, padding: 'max_length' }), {
    code: 'DATA_ERR_BAD_OPTION',
    message: /no pad token/,
  });
});

test('encodings agree with the library on texts it handles, added tokens included', (t) => {
  const json = {
    ...tokJson,
    added_tokens: [{ id: 49, content: '<Special>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
  };
  const ours = new TextTokenizer(json);
  const lib = new Tokenizer(json, {});
  const texts = [...ref.single.map((r) => r.text), 'the <Special> movie', 'BAD <special>!'];
  for (const a of texts) {
    const want = lib.encode(a, { return_token_type_ids: true });
    const got = ours.encode(a);
    t.deepEqual(Array.from(got.inputIds), want.ids, a);
    t.deepEqual(Array.from(got.tokenTypeIds), want.token_type_ids, a);
    for (const b of texts.filter((x) => x !== '')) {
      const wantPair = lib.encode(a, { text_pair: b, return_token_type_ids: true });
      t.deepEqual(Array.from(ours.encode(a, b).inputIds), wantPair.ids, `${a} | ${b}`);
    }
  }
  t.deepEqual(Array.from(ours.encode('the <Special> movie').inputIds), [CLS, 31, 49, 32, SEP]);
});
