import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '@adalora/config';
import { datasetHash, loadTokenizer } from '@adalora/data';
import { fixturePath, syntheticSquad } from '@adalora/test-support';
import { loadQaData } from './qa-data';

const tok = loadTokenizer(fixturePath('tokenizer'));
const vocabulary = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i)!);
const { v1, v2 } = syntheticSquad(vocabulary, { seed: 8, articles: 1 }); // 24 questions, every third unanswerable in v2
const dir = mkdtempSync(join(tmpdir(), 'adalora-qa-data-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
// HF datasets' rows of the same questions
const jsonl = (json: typeof v1) =>
  json.data
    .flatMap((a) => a.paragraphs.flatMap((p) => p.qas.map((q) => ({ id: q.id, title: a.title, context: p.context, question: q.question, answers: { text: q.answers.map((x) => x.text), answer_start: q.answers.map((x) => x.answer_start) } }))))
    .map((r) => JSON.stringify(r))
    .join('\n');
const data = (fields: Record<string, unknown>) => parseRunConfig({ model: 'm', data: { task: 'qa', maxLength: 48, ...fields } }).data;

test('SQuAD JSON and the same questions as JSONL give the same windows; the version is detected', (t) => {
  const fromJson = loadQaData(data({ train: write('v2.json', JSON.stringify(v2)), dev: join(dir, 'v2.json') }), tok);
  const fromJsonl = loadQaData(data({ train: write('v2.jsonl', jsonl(v2)), dev: join(dir, 'v2.jsonl') }), tok);
  t.is(fromJson.version, '2.0');
  t.is(datasetHash(fromJsonl.train), datasetHash(fromJson.train));
  t.deepEqual(fromJson.questions, { train: 24, dev: 24 });
  t.true(fromJson.train.examples.length > 24, 'contexts of 80 words make several 48-token windows');
  t.is(fromJson.dev!.examples.length, fromJson.qaDev!.features.length);
  t.true(fromJson.qaDev!.version2);
  t.true(fromJson.train.examples.every((e) => e.inputIds.length === 48), 'windows padded to maxLength');
  const v1Data = loadQaData(data({ train: write('v1.json', JSON.stringify(v1)) }), tok);
  t.is(v1Data.version, '1.1');
  t.is(v1Data.dev, null);
  t.is(v1Data.qaDev, null);
  t.is(loadQaData(data({ train: join(dir, 'v1.json'), squadVersion: '2.0' }), tok).version, '2.0', 'a version given is kept');
});

test("squadVersion '1.1' with an unanswerable question is refused naming the file and the question", (t) => {
  const file = write('v2b.json', JSON.stringify(v2));
  t.throws(() => loadQaData(data({ train: file, squadVersion: '1.1' }), tok), {
    message: `${file}: question 'syn-8-2' has no answer, which SQuAD v1.1 does not allow; set data.squadVersion to '2.0' (or 'auto')`,
  });
});
