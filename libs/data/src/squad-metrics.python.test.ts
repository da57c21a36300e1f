import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SquadExample } from './squad-example';
import { normalizeAnswer, squadScores } from './squad-metrics';

// The SQuAD metric against a second implementation: libs/data/test-fixtures/squad_eval.py, the
// official v1.1/v2.0 scripts' rules in plain Python, so that normalisation runs on Python's own
// str.lower, str.split (Unicode whitespace), string.punctuation and re's Unicode \b. Numbers
// must agree exactly (per question and aggregated percentages: the same operations in the same
// order give the same doubles).

const SCRIPT = fileURLToPath(new URL('../test-fixtures/squad_eval.py', import.meta.url));
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const noPython = python.error || python.status !== 0 ? `python3 is not available (${python.error?.message ?? python.stderr.trim()})` : null;
if (noPython) console.warn(`squad-metrics.python.test.ts: skipped, ${noPython}`);
const pythonTest = noPython ? (title: string, _fn: unknown) => test.skip(`${title} (skipped: ${noPython})`, () => {}) : test;

function runPython(args: string[], input?: string): unknown {
  const r = spawnSync('python3', [SCRIPT, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`squad_eval.py ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** golds [] = a v2 unanswerable question. */
const CASES: { golds: string[]; pred: string }[] = [
  // case
  { golds: ['Denver Broncos'], pred: 'denver broncos' },
  { golds: ['DENVER'], pred: 'Denver' },
  { golds: ['ΟΔΟΣ'], pred: 'οδος' }, // final sigma
  { golds: ['İstanbul'], pred: 'istanbul' }, // İ lowers to i + combining dot
  // articles: whole words only, anywhere
  { golds: ['the theater'], pred: 'theater' },
  { golds: ['another anthem'], pred: 'other anthem' },
  { golds: ['Theatre and Anthem'], pred: 'theatre anthem' },
  { golds: ['a'], pred: 'an' },
  { golds: ['The Beatles'], pred: 'Beatles, the' },
  { golds: ['an apple a day'], pred: 'apple day' },
  { golds: ['the_cat'], pred: 'thecat' }, // '_' is punctuation, removed before articles
  { golds: ['the1 cat'], pred: 'the1 cat' }, // digits are word characters
  { golds: ['²the cat'], pred: '² cat' },
  { golds: ['théâtre the end'], pred: 'théâtre end' },
  { golds: ['ça a été'], pred: 'ça été' },
  { golds: ['the\u0301 cat'], pred: '\u0301 cat' }, // a combining mark is not a word character in Python's re
  // punctuation: ASCII only, removed inside words too
  { golds: ["rock'n'roll"], pred: 'rocknroll' },
  { golds: ['U.S.A.'], pred: 'usa' },
  { golds: ['(1955)'], pred: '1955' },
  { golds: ['$1,000'], pred: '1000' },
  { golds: ['!!!'], pred: '?' }, // punctuation only: nothing left on either side
  { golds: ['...'], pred: 'dots' },
  { golds: ['“quoted” — text'], pred: '"quoted" - text' }, // Unicode quotes and dashes stay
  { golds: ['café…'], pred: 'café' },
  { golds: ['¿qué?'], pred: 'qué' },
  { golds: ['«the» end'], pred: '« » end' },
  // whitespace
  { golds: ['New   York'], pred: 'new york' },
  { golds: ['New\tYork\nCity'], pred: 'new york city' },
  { golds: ['  padded  '], pred: 'padded' },
  { golds: ['non\u00a0breaking'], pred: 'non breaking' },
  { golds: ['ideographic\u3000space'], pred: 'ideographic space' },
  { golds: ['line\u2028separator'], pred: 'line separator' },
  { golds: ['next\u0085line'], pred: 'next line' },
  { golds: ['unit\u001fseparator'], pred: 'unit separator' },
  { golds: ['zero\ufeffwidth'], pred: 'zero width' },
  { golds: ['a\u200bb'], pred: 'a b' },
  // partial overlap, token multiplicity
  { golds: ['the cat sat'], pred: 'cat sat down' },
  { golds: ['x y y z'], pred: 'y y y' },
  { golds: ['Super Bowl 50'], pred: 'Super Bowl' },
  { golds: ['cat'], pred: 'dog' },
  // empty predictions and answers that normalise to nothing
  { golds: ['Paris'], pred: '' },
  { golds: ['The'], pred: '' },
  { golds: ['The'], pred: 'the' },
  { golds: ['a', 'an'], pred: 'an' },
  // several golds: the best counts, empty-normalising golds are dropped (v2)
  { golds: ['Very good', 'good'], pred: 'good' },
  { golds: ['Santa Clara, California', "Levi's Stadium", "Levi's Stadium in the San Francisco Bay Area at Santa Clara, California."], pred: 'Santa Clara' },
  { golds: ['the', 'Saint Bernadette Soubirous'], pred: 'Bernadette' },
  { golds: ['1', '1', 'one'], pred: 'One' },
  // v2 unanswerable: right only when the prediction is empty (or normalises to nothing)
  { golds: [], pred: '' },
  { golds: [], pred: 'the' },
  { golds: [], pred: 'something' },
  { golds: [], pred: '  .  ' },
];

const example = (id: string, golds: readonly string[]): SquadExample => ({ id, question: '?', context: golds.join(' '), answers: { text: [...golds], answerStart: golds.map(() => 0) } });

pythonTest("the metric equals the official scripts' rules in Python on normalisation cases: normalize_answer, per-question EM/F1 (v2.0 and v1.1)", (t) => {
  type Row = { v2_exact: number; v2_f1: number; v1_exact?: number; v1_f1?: number; pred_norm: string; golds_norm: string[] };
  const rows = runPython(['cases'], JSON.stringify(CASES)) as Row[];
  t.is(rows.length, CASES.length);
  let v1Compared = 0;
  CASES.forEach((c, i) => {
    const py = rows[i];
    const what = JSON.stringify(c);
    t.is(normalizeAnswer(c.pred), py.pred_norm, `normalize_answer of ${JSON.stringify(c.pred)}`);
    t.deepEqual(c.golds.map(normalizeAnswer), py.golds_norm, `normalize_answer of ${JSON.stringify(c.golds)}`);
    // one question scored alone: its EM and F1 times 100
    const s = squadScores([example('q', c.golds)], new Map([['q', c.pred]]));
    t.is(s.exact, 100 * py.v2_exact, `EM ${what}`);
    t.is(s.f1, 100 * py.v2_f1, `F1 ${what}`);
    // v1.1's script agrees except where a gold answer normalises to nothing (v2.0 drops it, v1.1 scores F1 0 against it)
    if (py.v1_exact !== undefined && c.golds.every((g) => normalizeAnswer(g) !== '')) {
      v1Compared++;
      t.is(s.exact, 100 * py.v1_exact, `v1.1 EM ${what}`);
      t.is(s.f1, 100 * py.v1_f1!, `v1.1 F1 ${what}`);
    }
  });
  t.true(v1Compared >= 40, `${v1Compared} cases compared with the v1.1 rules`);
});

pythonTest("aggregated scores of a small v2.0 file (and a v1.1 one) equal the official scripts' output in Python", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'squad-py-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const score = (cases: typeof CASES) => {
    const examples = cases.map((c, i) => example(`q${i}`, c.golds));
    // a question without a prediction: the v1.1 script counts 0 and so does squadScores; the v2.0 script would skip it, so every question is predicted here
    const predictions = new Map(cases.map((c, i) => [`q${i}`, c.pred]));
    const data = { version: 'v2.0', data: [{ title: 't', paragraphs: examples.map((e) => ({ context: e.context, qas: [{ id: e.id, question: e.question, answers: e.answers.text.map((text) => ({ text, answer_start: 0 })), ...(e.answers.text.length === 0 && { is_impossible: true }) }] })) }] };
    writeFileSync(join(dir, 'data.json'), JSON.stringify(data));
    writeFileSync(join(dir, 'predictions.json'), JSON.stringify(Object.fromEntries(predictions)));
    return { ts: squadScores(examples, predictions), py: runPython(['eval', join(dir, 'data.json'), join(dir, 'predictions.json')]) as Record<string, number> & { v1?: { exact_match: number; f1: number } } };
  };
  const v2 = score(CASES);
  const { v1: _none, ...official } = v2.py;
  t.is(_none, undefined, 'unanswerable questions: no v1.1 score');
  t.deepEqual({ ...v2.ts }, official);
  t.is(v2.ts.NoAns_total, 4);
  t.log(`v2.0, ${CASES.length} questions: ${JSON.stringify(official)}`);

  // v1.1: the answerable cases whose golds all keep a token
  const v1 = score(CASES.filter((c) => c.golds.length > 0 && c.golds.every((g) => normalizeAnswer(g) !== '')));
  t.truthy(v1.py.v1);
  t.is(v1.ts.exact, v1.py.v1!.exact_match);
  t.is(v1.ts.f1, v1.py.v1!.f1);
  t.log(`v1.1, ${v1.ts.total} questions: EM ${v1.ts.exact}, F1 ${v1.ts.f1}`);
});
