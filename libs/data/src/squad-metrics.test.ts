import test from 'ava';
import type { SquadExample } from './squad-example';
import { answerTokens, exactMatch, f1Score, normalizeAnswer, squadScores } from './squad-metrics';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

test('normalize_answer: case, punctuation, articles as whole words, whitespace', (t) => {
  t.is(normalizeAnswer('The Cat'), 'cat');
  t.is(normalizeAnswer('  A  dog, an apple!! '), 'dog apple');
  t.is(normalizeAnswer('Theatre and Anthem'), 'theatre and anthem'); // articles only as whole words
  t.is(normalizeAnswer('the_cat'), 'thecat'); // '_' is punctuation, removed before the articles
  t.is(normalizeAnswer("rock'n'roll\t(1955)"), 'rocknroll 1955');
  t.is(normalizeAnswer('Ça éa the'), 'ça éa'); // é is a word character (Python re.UNICODE): 'a' stays
  t.is(normalizeAnswer('“quoted” — text'), '“quoted” — text'); // only ASCII punctuation goes
  t.deepEqual(answerTokens('The end.'), ['end']);
  t.deepEqual(answerTokens(''), []);
});

test('compute_exact and compute_f1 by hand', (t) => {
  t.is(exactMatch('The Cat', 'cat'), 1);
  t.is(exactMatch('cat.', 'a cat'), 1);
  t.is(exactMatch('cats', 'cat'), 0);
  // gold [cat, sat], pred [cat, sat, down]: P = 2/3, R = 1, F1 = 0.8
  t.true(close(f1Score('the cat sat', 'cat sat down'), 0.8));
  // shared tokens count with multiplicity: gold [x, y, y, z], pred [y, y, y]: 2 shared, P = 2/3, R = 1/2, F1 = 4/7
  t.true(close(f1Score('x y y z', 'y y y'), 4 / 7));
  t.is(f1Score('cat', 'dog'), 0);
  // empty-answer rule: 1 only when both sides have no token
  t.is(f1Score('', ''), 1);
  t.is(f1Score('the', ''), 1); // 'the' normalises to nothing
  t.is(f1Score('', 'cat'), 0);
  t.is(f1Score('cat', ''), 0);
  t.is(exactMatch('', ''), 1);
});

const q = (id: string, answers: string[]): SquadExample => ({ id, question: '?', context: answers.join(' '), answers: { text: answers, answerStart: answers.map(() => 0) } });

test('a small v2 set: totals and HasAns/NoAns splits by hand', (t) => {
  const examples = [
    q('q1', ['Very good', 'good']), // pred 'good': EM 1 (second gold), F1 1
    q('q2', ['the movie was great']), // pred 'movie was bad': EM 0, F1 2/3
    q('q3', []), // unanswerable, pred '': EM 1, F1 1
    q('q4', []), // unanswerable, pred 'plot': EM 0, F1 0
    q('q5', ['A plot']), // no prediction: 0, 0
  ];
  const preds = new Map([
    ['q1', 'good'],
    ['q2', 'movie was bad'],
    ['q3', ''],
    ['q4', 'plot'],
  ]);
  const s = squadScores(examples, preds);
  t.is(s.total, 5);
  t.true(close(s.exact, 40)); // 100 · 2/5
  t.true(close(s.f1, (100 * (1 + 2 / 3 + 1)) / 5)); // 53.33…
  t.is(s.HasAns_total, 3);
  t.true(close(s.HasAns_exact!, 100 / 3));
  t.true(close(s.HasAns_f1!, (100 * (1 + 2 / 3)) / 3)); // 55.55…
  t.is(s.NoAns_total, 2);
  t.is(s.NoAns_exact, 50);
  t.is(s.NoAns_f1, 50);
});

test('v1 data has no NoAns split; a gold answer that normalises to nothing counts as "" but stays HasAns', (t) => {
  const s = squadScores([q('a', ['The']), q('b', ['cat'])], new Map([['a', ''], ['b', 'the cat']]));
  t.deepEqual(s, { exact: 100, f1: 100, total: 2, HasAns_exact: 100, HasAns_f1: 100, HasAns_total: 2 });
  t.deepEqual(squadScores([], new Map()), { exact: 0, f1: 0, total: 0 });
});
