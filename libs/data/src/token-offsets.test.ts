import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { alignTokens, normalizeWithAlignment, surfaceRulesOf, tokenSurface } from './token-offsets';
import { loadTokenizer, TextTokenizer } from './tokenizer';
import { fixturePath } from '@adalora/test-support';

const tokDir = fixturePath('tokenizer');
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

// Tiny tokenizers of the other two families, made here: the library runs them, the offsets are
// checked by slicing the text.
const special = (names: string[]) => names.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));

test('byte-level BPE (RoBERTa style): spans without the Ġ space; the bytes of one character share its span', (t) => {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  let extra = 0;
  for (let b = 0; b < 256; b++) vocab[String.fromCodePoint(printable(b) ? b : 256 + extra++)] = Object.keys(vocab).length;
  const merges = ['Ġ c', 'a f', 'Ġc af', 'Ġ m', 'o v', 'Ġm ov', 'i e', 'Ġmov ie'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  const bpe = new TextTokenizer({
    version: '1.0',
    added_tokens: special(['<s>', '<pad>', '</s>', '<unk>']),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  });
  const text = 'Hi café movie😀!';
  const { tokens, offsets } = bpe.tokenizeWithOffsets(text);
  t.deepEqual(
    tokens.map((x, i) => [x, text.slice(...offsets[i])]),
    [['H', 'H'], ['i', 'i'], ['Ġcaf', 'caf'], ['Ã', 'é'], ['©', 'é'], ['Ġmovie', 'movie'], ['ð', '😀'], ['Ł', '😀'], ['ĺ', '😀'], ['Ģ', '😀'], ['!', '!']],
  );
  // <s> A </s></s> B </s>: both separators are special
  const e = bpe.encodeWithOffsets('Hi', 'a movie');
  t.deepEqual(e.sequenceIds, [null, 0, 0, null, null, 1, 1, null]);
  t.deepEqual(e.offsets[6], [2, 7]);
});

test('SentencePiece-style Unigram with Metaspace (DeBERTa-v3 style): ▁ is a space, not part of a span', (t) => {
  const pieces: [string, number][] = [['[PAD]', 0], ['[CLS]', 0], ['[SEP]', 0], ['[UNK]', 0], ['▁the', -1], ['▁movie', -1.5], ['▁', -2], ['s', -3], ['▁good', -2], ['!', -3], ['▁Movie', -1]];
  for (const c of 'abcdefghijklmnopqrstuvwxyzT') if (!pieces.some(([p]) => p === c)) pieces.push([c, -6]);
  const sp = new TextTokenizer({
    version: '1.0',
    added_tokens: special(['[PAD]', '[CLS]', '[SEP]', '[UNK]']),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab: pieces, byte_fallback: false },
  });
  const text = 'the Movie  movies good!';
  const { tokens, offsets } = sp.tokenizeWithOffsets(text);
  t.deepEqual(
    tokens.map((x, i) => [x, text.slice(...offsets[i])]),
    [['▁the', 'the'], ['▁Movie', 'Movie'], ['▁movie', 'movie'], ['s', 's'], ['▁good', 'good'], ['!', '!']],
  );
});
