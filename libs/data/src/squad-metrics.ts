import type { SquadExample } from './squad-example';

/**
 * SQuAD's answer normalisation (official v1.1/v2.0 `normalize_answer`): lower case, remove
 * ASCII punctuation, remove the articles a/an/the as whole words, collapse whitespace (Python's
 * Unicode whitespace, as `str.split()`).
 */
export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase();
  const noPunc = [...lower].filter((c) => !PUNCTUATION.has(c)).join('');
  const noArticles = noPunc.replace(ARTICLES, ' ');
  return noArticles.split(PYTHON_WHITESPACE).filter((t) => t !== '').join(' ');
}

// What Python's str.split() splits on (str.isspace): JS's \s without U+FEFF, plus the ASCII
// separators U+001C–U+001F and NEL U+0085 (found by the Python comparison test).
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

// Python's string.punctuation.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// Python's re `\b(a|an|the)\b` with re.UNICODE: word characters are letters, digits and '_'.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** The official `get_tokens`: the normalised answer split on whitespace ("" has none). */
export function answerTokens(s: string): string[] {
  if (s === '') return [];
  const n = normalizeAnswer(s);
  return n === '' ? [] : n.split(' ');
}

/** The official `compute_exact`: 1 when both normalise to the same text, else 0. */
export function exactMatch(gold: string, pred: string): number {
  return normalizeAnswer(gold) === normalizeAnswer(pred) ? 1 : 0;
}

/**
 * The official `compute_f1`: harmonic mean of token precision and recall over the multiset of
 * shared tokens; when either side has no token, 1 if both have none, else 0.
 */
export function f1Score(gold: string, pred: string): number {
  const g = answerTokens(gold);
  const p = answerTokens(pred);
  if (g.length === 0 || p.length === 0) return g.length === p.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * Scores as the official SQuAD v2.0 script prints them (percentages): `exact`, `f1`, `total`,
 * and the same over answerable (`HasAns_*`) and unanswerable (`NoAns_*`) questions when there
 * are any. On v1.1 data `exact` and `f1` equal the v1.1 script's `exact_match` and `f1`.
 */
export interface SquadScores {
  readonly exact: number;
  readonly f1: number;
  readonly total: number;
  readonly HasAns_exact?: number;
  readonly HasAns_f1?: number;
  readonly HasAns_total?: number;
  readonly NoAns_exact?: number;
  readonly NoAns_f1?: number;
  readonly NoAns_total?: number;
}

/**
 * Exact match and F1 of `predictions` (answer text by question id) against the examples' gold
 * answers, each the best over the gold answers. Gold answers that normalise to "" are dropped
 * and an unanswerable question's gold is [""], as the v2.0 script does. A question without a
 * prediction scores 0 (the v1.1 script's rule; the v2.0 script would skip it).
 */
export function squadScores(examples: readonly SquadExample[], predictions: ReadonlyMap<string, string>): SquadScores {
  if (examples.length === 0) return { exact: 0, f1: 0, total: 0 };
  const sums = { all: [0, 0, 0], has: [0, 0, 0], no: [0, 0, 0] };
  for (const ex of examples) {
    const hasAns = ex.answers.text.length > 0; // the script's qid_to_has_ans: any answer given
    const golds = ex.answers.text.filter((a) => normalizeAnswer(a) !== '');
    if (golds.length === 0) golds.push('');
    const pred = predictions.get(ex.id);
    const em = pred === undefined ? 0 : Math.max(...golds.map((g) => exactMatch(g, pred)));
    const f1 = pred === undefined ? 0 : Math.max(...golds.map((g) => f1Score(g, pred)));
    for (const s of [sums.all, hasAns ? sums.has : sums.no]) {
      s[0] += em;
      s[1] += f1;
      s[2] += 1;
    }
  }
  const pct = ([em, f1, n]: number[]) => ({ exact: (100 * em) / n, f1: (100 * f1) / n, total: n });
  const has = pct(sums.has);
  const no = pct(sums.no);
  return {
    ...pct(sums.all),
    ...(has.total > 0 ? { HasAns_exact: has.exact, HasAns_f1: has.f1, HasAns_total: has.total } : {}),
    ...(no.total > 0 ? { NoAns_exact: no.exact, NoAns_f1: no.f1, NoAns_total: no.total } : {}),
  };
}
