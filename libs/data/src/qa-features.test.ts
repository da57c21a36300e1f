import test from 'ava';
import * as path from 'node:path';
import { prepareTrainFeatures, prepareValidationFeatures } from './qa-features';
import type { SquadExample } from './squad-example';
import { loadTokenizer } from './tokenizer';
import { fixturePath } from '@adalora/test-support';

const tok = loadTokenizer(fixturePath('tokenizer'));

// 20 words, each one token of the fixture vocabulary; starts[k] is word k's first character.
const words = ['The', 'movie', 'was', 'very', 'good', 'not', 'bad', 'great', 'plot', 'act', 'the', 'Movie', 'was', 'not', 'very', 'great', 'plot', 'good', 'bad', 'act'];
const context = words.join(' ');
const starts = words.map((_, k) => words.slice(0, k).join(' ').length + (k > 0 ? 1 : 0));
const span = (from: number, to: number) => ({ text: words.slice(from, to + 1).join(' '), answerStart: [starts[from]] });
const example = (id: string, question: string, answer: { text: string; answerStart: number[] } | null): SquadExample => ({
  id,
  question,
  context,
  answers: answer === null ? { text: [], answerStart: [] } : { text: [answer.text], answerStart: answer.answerStart },
});

// maxLength 13 = [CLS] + 2 question tokens + [SEP] + 8 context tokens + [SEP]; stride 3 → windows
// of context tokens [0, 8), [5, 13), [10, 18), [15, 20): context token k of a window starting
// at s sits at position 4 + k − s.
const opts = { maxLength: 13, docStride: 3 };
const windowStarts = [0, 5, 10, 15];

test('the fixture context: one token per word, at the word starts', (t) => {
  const { tokens, offsets } = tok.tokenizeWithOffsets(context);
  t.deepEqual(tokens, words.map((w) => w.toLowerCase()));
  t.deepEqual(offsets.map((o) => o[0]), starts);
});

test('windows overlap by docStride tokens and hold the library encoding of their context text', (t) => {
  const feats = prepareValidationFeatures([example('q', '   the plot', null)], tok, opts);
  t.is(feats.length, 4);
  feats.forEach((f, w) => {
    const s = windowStarts[w];
    const n = Math.min(8, 20 - s);
    t.is(f.exampleId, 'q');
    t.is(f.exampleIndex, 0);
    // first and last context token: the offsets of words s and s + n − 1
    t.deepEqual(f.offsets[4], [starts[s], starts[s] + words[s].length]);
    t.deepEqual(f.offsets[3 + n], [starts[s + n - 1], starts[s + n - 1] + words[s + n - 1].length]);
    // offsets outside the context are null: [CLS], question, [SEP]s, padding
    t.deepEqual(f.offsets.map((o) => o !== null), Array.from({ length: 13 }, (_, i) => i >= 4 && i < 4 + n));
    // the question is left-stripped; ids as the library encodes question + that part of the context
    const part = context.slice(starts[s], starts[s + n - 1] + words[s + n - 1].length);
    const expected = tok.encode('the plot', part, { maxLength: 13, padding: 'max_length' });
    t.deepEqual(Array.from(f.inputIds), Array.from(expected.inputIds), `window ${w}`);
    t.deepEqual(Array.from(f.tokenTypeIds), Array.from(expected.tokenTypeIds));
    t.deepEqual(Array.from(f.attentionMask), Array.from(expected.attentionMask));
  });
});

test('answer positions per window: inside, ending at the last context token, crossing the edge, near the end, unanswerable', (t) => {
  const cases: [string, { text: string; answerStart: number[] } | null, [number, number][]][] = [
    // words 6–7 end exactly at window 0's last context token (token 7)
    ['edge-end', span(6, 7), [[10, 11], [5, 6], [0, 0], [0, 0]]],
    // words 7–8 cross window 0's end: 0/0 there, whole in window 1
    ['crossing', span(7, 8), [[0, 0], [6, 7], [0, 0], [0, 0]]],
    // only window 0's last context token (HF's walk would leave the context here; see qa-features.ts)
    ['last-token', span(7, 7), [[11, 11], [6, 6], [0, 0], [0, 0]]],
    // the second 'great' (word 15): found by answer_start, not by its text
    ['second-great', span(15, 15), [[0, 0], [0, 0], [9, 9], [4, 4]]],
    ['tail', span(18, 19), [[0, 0], [0, 0], [0, 0], [7, 8]]],
    ['impossible', null, [[0, 0], [0, 0], [0, 0], [0, 0]]],
  ];
  const examples = cases.map(([id, a]) => example(id, 'the plot', a));
  const feats = prepareTrainFeatures(examples, tok, opts);
  t.is(feats.length, 4 * cases.length);
  cases.forEach(([id, , expected], e) => {
    const mine = feats.filter((f) => f.exampleIndex === e);
    t.deepEqual(mine.map((f) => [f.startPosition, f.endPosition]), expected, id);
    // each labelled span decodes to the answer text
    const answer = examples[e].answers.text[0];
    mine.forEach((f) => {
      if (f.startPosition === 0) return;
      t.is(tok.decode(f.inputIds.slice(f.startPosition, f.endPosition + 1)), answer!.toLowerCase(), id);
    });
  });
});

test('an answer inside a word split into sub-words maps to both pieces; without padding windows are shorter', (t) => {
  const ctx = 'The plot was great, acting bad.';
  const ex: SquadExample = { id: 'w', question: 'plot', context: ctx, answers: { text: ['acting'], answerStart: [20] } };
  const [f] = prepareTrainFeatures([ex], tok, { maxLength: 32, docStride: 4, padToMaxLength: false });
  // [CLS] plot [SEP] the plot was great , act ##ing bad . [SEP]
  t.is(f.inputIds.length, 13);
  t.deepEqual([f.startPosition, f.endPosition], [8, 9]);
  t.deepEqual([tok.idToToken(f.inputIds[8]), tok.idToToken(f.inputIds[9])], ['act', '##ing']);
});

test('a window must hold more context tokens than the stride', (t) => {
  t.throws(() => prepareTrainFeatures([example('q', 'the plot', null)], tok, { maxLength: 8, docStride: 3 }), {
    code: 'DATA_ERR_TRUNCATION',
    message: /only 3 context tokens fit per window, which must exceed docStride 3/,
  });
  t.throws(() => prepareTrainFeatures([example('q', 'the plot', null)], tok, { docStride: -1 }), { code: 'DATA_ERR_BAD_OPTION' });
});
