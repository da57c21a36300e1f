import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isUnanswerable, loadSquad, loadTokenizer } from '@adalora/data';
import { fixturePath } from './fixture-paths';
import { syntheticSquad, writeSyntheticSquad } from './squad-synthetic';

const tok = loadTokenizer(fixturePath('tokenizer'));
const vocabulary = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i)!);

test('v1.1 and v2.0 files of 240 questions whose answers are spans of their contexts, in known tokens', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'squad-syn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = writeSyntheticSquad(dir, vocabulary, { seed: 7 });
  const v1 = loadSquad(files.v1);
  const v2 = loadSquad(files.v2);
  t.is(v1.length, 240);
  t.is(v2.length, 240);
  t.is(JSON.parse(readFileSync(files.v2, 'utf8')).version, 'v2.0');
  for (const ex of v1) {
    t.is(ex.answers.text.length, 1);
    const [s] = ex.answers.answerStart;
    t.is(ex.context.slice(s, s + ex.answers.text[0].length), ex.answers.text[0], ex.id);
    // the question is the three words before the answer (a sentence end may sit between)
    t.regex(ex.context.slice(0, s), new RegExp(`${ex.question.replace(/[.!]/g, '\\$&')}[.!]? $`), ex.id);
  }
  const unk = tok.tokenToId('[UNK]');
  t.false(v1.some((ex) => tok.encode(ex.question, ex.context).inputIds.includes(unk!)));
  const impossible = v2.filter(isUnanswerable);
  t.is(impossible.length, 80); // every third question
  for (const ex of impossible) t.false(` ${ex.context.replace(/[.!]/g, '')} `.includes(` ${ex.question} `), ex.id);
  v2.filter((ex) => !isUnanswerable(ex)).forEach((ex) => t.deepEqual(ex, v1.find((e) => e.id === ex.id)));
});

test('the same seed gives the same data; another seed another', (t) => {
  t.deepEqual(syntheticSquad(vocabulary, { seed: 3 }), syntheticSquad(vocabulary, { seed: 3 }));
  t.notDeepEqual(syntheticSquad(vocabulary, { seed: 3 }).v1, syntheticSquad(vocabulary, { seed: 4 }).v1);
  t.throws(() => syntheticSquad(['a', 'b']), { message: /at least 4 are needed/ });
});
