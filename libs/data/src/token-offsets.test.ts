import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alignTokens, normalizeWithAlignment, surfaceRulesOf, tokenSurface } from './token-offsets';
import { loadTokenizer } from './tokenizer';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tokDir = path.resolve(repoRoot, '../shared/fixtures/tokenizer');
const tok = loadTokenizer(tokDir);
const ref = JSON.parse(readFileSync(path.join(tokDir, 'reference.json'), 'utf8')) as { single: { text: string; ids: number[] }[] };

test('every fixture text: the offsets slice out what each token spells (lower-cased), in order', (t) => {
  const texts = [...ref.single.map((r) => r.text), '  Acting   PLOTS, the—movie!', 'GOOD\tvery\nbad...'];
  for (const text of texts) {
    const { tokens, offsets } = tok.tokenizeWithOffsets(text);
    t.is(offsets.length, tokens.length);
    let last = 0;
    tokens.forEach((token, i) => {
      const [a, b] = offsets[i];
      t.true(a >= last && b > a, `${text}: token ${i} '${token}' at [${a}, ${b})`);
      if (token !== '[UNK]') t.is(text.slice(a, b).toLowerCase(), token.replace(/^##/, ''), text);
      last = b;
    });
  }
});

test('ids are the library encode ids; [UNK] covers its whole word; sub-words split a word', (t) => {
  const text = 'Qwerty zz éclair, acting';
  const { tokens, offsets } = tok.tokenizeWithOffsets(text);
  t.deepEqual(tokens.map((x) => tok.tokenToId(x)), Array.from(tok.encode(text).inputIds).slice(1, -1));
  t.deepEqual(
    tokens.map((x, i) => [x, text.slice(...offsets[i])]),
    [['[UNK]', 'Qwerty'], ['[UNK]', 'zz'], ['[UNK]', 'éclair'], [',', ','], ['act', 'act'], ['##ing', 'ing']],
  );
});

test('encodeWithOffsets: sequence ids and offsets per text, [0, 0] and null on special tokens and padding', (t) => {
  const e = tok.encodeWithOffsets('The movie', 'was great.', { maxLength: 10, padding: 'max_length' });
  t.deepEqual(Array.from(e.inputIds), [...Array.from(tok.encode('The movie', 'was great.').inputIds), 0, 0]);
  t.deepEqual(e.sequenceIds, [null, 0, 0, null, 1, 1, 1, null, null, null]);
  t.deepEqual(e.offsets, [[0, 0], [0, 3], [4, 9], [0, 0], [0, 3], [4, 9], [9, 10], [0, 0], [0, 0], [0, 0]]);
  const cut = tok.encodeWithOffsets('The movie', 'was great.', { maxLength: 6, truncation: 'only_second' });
  t.deepEqual(Array.from(cut.inputIds), Array.from(tok.encode('The movie', 'was great.', { maxLength: 6, truncation: 'only_second' }).inputIds));
  t.deepEqual(cut.sequenceIds, [null, 0, 0, null, 1, null]);
});

test('normalised characters remember their source; byte-level and SentencePiece surfaces', (t) => {
  const n = normalizeWithAlignment('Ab', (s) => s.toLowerCase() + (s === 'A' ? '-' : ''));
  t.is(n.normalized, 'a-b');
  t.deepEqual([Array.from(n.start), Array.from(n.end)], [[0, 0, 1], [1, 1, 2]]);
  const byteLevel = surfaceRulesOf({ model: { type: 'BPE' }, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'ByteLevel' }] } });
  t.true(byteLevel.byteLevel);
  t.is(byteLevel.continuingPrefix, null);
  t.is(tokenSurface('Ġcaf', byteLevel), ' caf');
  t.is(tokenSurface('Ã©', byteLevel), 'é'); // the two UTF-8 bytes of é
  const rules = { ...byteLevel };
  t.deepEqual(alignTokens('Hi café', ['Hi', 'Ġcaf', 'Ã©'], rules, null), [[0, 2], [3, 6], [6, 7]]);
  const wordPiece = surfaceRulesOf({ model: { type: 'WordPiece', unk_token: '[UNK]' } });
  t.is(wordPiece.continuingPrefix, '##');
  t.is(tokenSurface('##ing', wordPiece), 'ing');
  t.is(tokenSurface('##', wordPiece), '##'); // a bare prefix is the text '##'
  t.is(tokenSurface('▁hello', surfaceRulesOf({ model: { type: 'Unigram' } })), ' hello');
});
