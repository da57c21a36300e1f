import test from 'ava';
import type { QaEvalFeature } from './qa-features';
import { postprocessQaPredictions } from './qa-postprocess';
import type { SquadExample } from './squad-example';

const context = 'the movie was very good';
const ex = (id: string): SquadExample => ({ id, question: 'q', context, answers: { text: [], answerStart: [] } });
const feature = (exampleIndex: number, exampleId: string, offsets: QaEvalFeature['offsets']): QaEvalFeature => ({
  exampleIndex,
  exampleId,
  inputIds: new Int32Array(offsets.length),
  attentionMask: new Int32Array(offsets.length),
  tokenTypeIds: new Int32Array(offsets.length),
  offsets,
});

// Two windows of one example: 'the movie was' and 'was very good' (token 5 is [SEP]: no offset).
const features = [
  feature(0, 'a', [null, null, [0, 3], [4, 9], [10, 13], null]),
  feature(0, 'a', [null, null, [10, 13], [14, 18], [19, 23], null]),
];
// Window 0: the best start logit (9) is on [SEP] and cannot start a span; best span 'movie' = 2 + 3.
// Window 1: 'very good' = 4 + 2.5 = 6.5 beats everything; 'very' alone = 4 + 0.5.
const start = [
  [5, 0, 1, 2, 0, 9],
  [0, 0, 0, 4, 1, 0],
];
const end = [
  [5, 0, 0, 3, 1, 0],
  [0, 0, 0, 0.5, 2.5, 0],
];

test('v1: the best span over all windows; only context tokens, end >= start, bounded length', (t) => {
  const r = postprocessQaPredictions([ex('a')], features, start, end);
  t.is(r.predictions.get('a'), 'very good');
  const nbest = r.nbest.get('a')!;
  t.deepEqual(nbest.slice(0, 3).map((c) => [c.text, c.startLogit + c.endLogit]), [['very good', 6.5], ['movie', 5], ['very', 4.5]]);
  t.true(Math.abs(nbest.reduce((s, c) => s + c.probability, 0) - 1) < 1e-12);
  t.true(nbest.every((c, i) => i === 0 || c.probability <= nbest[i - 1].probability));
  // one-token answers only: 'movie' (5) beats 'very' (4.5)
  t.is(postprocessQaPredictions([ex('a')], features, start, end, { maxAnswerLength: 1 }).predictions.get('a'), 'movie');
  // n-best 1: window 0's only start candidate is [SEP], so window 1's best pair decides
  t.is(postprocessQaPredictions([ex('a')], features, start, end, { nBestSize: 1 }).predictions.get('a'), 'very good');
  t.is(r.scoreDiff.size, 0);
});

test('v2: the null score is the minimum over windows of start[0] + end[0]; the threshold decides', (t) => {
  // null scores: window 0: 5 + 5 = 10, window 1: 0 + 0 = 0 → 0; best span 6.5 → diff −6.5
  const r = postprocessQaPredictions([ex('a')], features, start, end, { version2WithNegative: true });
  t.is(r.scoreDiff.get('a'), -6.5);
  t.is(r.predictions.get('a'), 'very good');
  t.true(r.nbest.get('a')!.some((c) => c.text === '' && c.startLogit === 0 && c.endLogit === 0));
  t.is(postprocessQaPredictions([ex('a')], features, start, end, { version2WithNegative: true, nullScoreDiffThreshold: -7 }).predictions.get('a'), '');
  // one window whose null score 4 + 4 beats its best span 2 + 1 by 5 > 0: no answer
  const one = [feature(0, 'b', [null, [0, 3], [4, 9], null])];
  const v2 = postprocessQaPredictions([ex('b')], one, [[4, 2, 0, 0]], [[4, 0, 1, 0]], { version2WithNegative: true });
  t.is(v2.predictions.get('b'), '');
  t.is(v2.scoreDiff.get('b'), 5);
  // v1 on the same logits answers the best span, 'the movie'
  t.is(postprocessQaPredictions([ex('b')], one, [[4, 2, 0, 0]], [[4, 0, 1, 0]]).predictions.get('b'), 'the movie');
});

test('an example with no valid span answers "empty" (HF); mismatched inputs are refused', (t) => {
  const none = [feature(0, 'c', [null, null, null])];
  t.is(postprocessQaPredictions([ex('c')], none, [[1, 2, 3]], [[1, 2, 3]]).predictions.get('c'), 'empty');
  t.throws(() => postprocessQaPredictions([ex('a')], features, start, end.slice(1)), { code: 'DATA_ERR_BAD_OPTION', message: /2 features but 2 start and 1 end/ });
  t.throws(() => postprocessQaPredictions([ex('z')], features, start, end), { code: 'DATA_ERR_BAD_OPTION', message: /feature 0 belongs to 'a'/ });
  t.throws(() => postprocessQaPredictions([ex('a')], features, start, end, { nBestSize: 0 }), { message: /nBestSize must be an integer >= 1/ });
});
