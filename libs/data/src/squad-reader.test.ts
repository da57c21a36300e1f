import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadSquad, parseSquadJson, parseSquadJsonl } from './squad-reader';

const v2 = {
  version: 'v2.0',
  data: [
    {
      title: 'Films',
      paragraphs: [
        {
          context: 'The movie was very good.',
          qas: [
            { id: 'q1', question: 'How was it?', answers: [{ text: 'very good', answer_start: 14 }, { text: 'good', answer_start: 19 }], is_impossible: false },
            { id: 'q2', question: 'Who?', answers: [], plausible_answers: [{ text: 'movie', answer_start: 4 }], is_impossible: true },
          ],
        },
      ],
    },
  ],
};

test('SQuAD v2.0 JSON: questions with their context and title; unanswerables have no answers', (t) => {
  const ex = parseSquadJson(JSON.stringify(v2), 'dev.json');
  t.deepEqual(ex, [
    { id: 'q1', title: 'Films', question: 'How was it?', context: 'The movie was very good.', answers: { text: ['very good', 'good'], answerStart: [14, 19] } },
    { id: 'q2', title: 'Films', question: 'Who?', context: 'The movie was very good.', answers: { text: [], answerStart: [] } },
  ]);
});

test('SQuAD v1.1 JSON (no is_impossible) and the same questions as HF JSONL read alike', (t) => {
  const v1 = { version: '1.1', data: [{ title: 'Films', paragraphs: [{ context: 'The movie was very good.', qas: [{ id: 'q1', question: 'How was it?', answers: [{ text: 'very good', answer_start: 14 }] }] }] }] };
  const jsonl = JSON.stringify({ id: 'q1', title: 'Films', context: 'The movie was very good.', question: 'How was it?', answers: { text: ['very good'], answer_start: [14] } });
  t.deepEqual(parseSquadJsonl(`${jsonl}\n`, 'x.jsonl'), parseSquadJson(JSON.stringify(v1)));
  const dir = mkdtempSync(path.join(tmpdir(), 'squad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'a.jsonl'), jsonl);
  writeFileSync(path.join(dir, 'a.json'), JSON.stringify(v1));
  t.deepEqual(loadSquad(path.join(dir, 'a.jsonl')), loadSquad(path.join(dir, 'a.json')));
});

test('answer_start counts code points (as Python); it becomes a JS string index', (t) => {
  const context = '😀 good movie'; // the emoji is one code point, two UTF-16 units
  const [ex] = parseSquadJsonl(JSON.stringify({ id: 'e', question: 'q', context, answers: { text: ['good'], answer_start: [2] } }));
  t.is(ex.answers.answerStart[0], 3);
  t.is(context.slice(3, 7), 'good');
});

test('JSON errors name the file, the entry and the problem', (t) => {
  const bad = (edit: (d: typeof v2) => void) => {
    const d = structuredClone(v2);
    edit(d);
    return () => parseSquadJson(JSON.stringify(d), 'dev.json');
  };
  t.throws(() => parseSquadJson('{', 'dev.json'), { code: 'DATA_ERR_INVALID_JSON', message: /^dev\.json: invalid JSON/ });
  t.throws(() => parseSquadJson('{"version": 1}', 'dev.json'), { code: 'DATA_ERR_MISSING_COLUMN', message: /'data' array/ });
  t.throws(() => parseSquadJson('{"data": []}', 'dev.json'), { code: 'DATA_ERR_EMPTY_FILE' });
  t.throws(
    bad((d) => ((d.data[0].paragraphs[0].qas[1] as { question: unknown }).question = 7)),
    { code: 'DATA_ERR_BAD_FIELD', message: "dev.json: data[0].paragraphs[0].qas[1]: 'question' must be a string, got 7" },
  );
  t.throws(bad((d) => (d.data[0].paragraphs[0].qas[1].id = 'q1')), { message: /qas\[1\]: duplicate question id 'q1'/ });
  t.throws(bad((d) => (d.data[0].paragraphs[0].qas[0].answers[1].answer_start = 23)), { message: /qas\[0\]: answer 1: 'good' at 23 runs past the end of the context \(24 characters\)/ });
  t.throws(bad((d) => (d.data[0].paragraphs[0].qas[0].answers[0].answer_start = -1)), { message: /'answer_start' must be an integer >= 0, got -1/ });
  t.throws(bad((d) => (d.data[0].paragraphs[0].qas[0].is_impossible = true)), { message: /is_impossible is true but answers is not empty/ });
  t.throws(bad((d) => ((d.data[0].paragraphs[0] as { context: unknown }).context = null)), { message: /data\[0\]\.paragraphs\[0\]: 'context' must be a string, got null/ });
});

test('JSONL errors name the file, the line and the problem', (t) => {
  const ok = JSON.stringify({ id: 'a', question: 'q', context: 'c c', answers: { text: ['c'], answer_start: [0] } });
  t.throws(() => parseSquadJsonl(`${ok}\n{"id": "b", "question": "q", "context": "c"}`, 'train.jsonl'), {
    code: 'DATA_ERR_MISSING_COLUMN',
    message: "train.jsonl:2: missing field 'answers'",
  });
  t.throws(() => parseSquadJsonl(`${ok}\n${ok}`, 'train.jsonl'), { code: 'DATA_ERR_BAD_FIELD', message: "train.jsonl:2: duplicate question id 'a'" });
  t.throws(() => parseSquadJsonl(JSON.stringify({ id: 'a', question: 'q', context: 'c', answers: { text: ['c'], answer_start: [] } }), 't.jsonl'), {
    message: 't.jsonl:1: answers has 1 texts but 0 answer_start values',
  });
  t.throws(() => parseSquadJsonl(JSON.stringify({ id: 3, question: 'q', context: 'c', answers: { text: [], answer_start: [] } }), 't.jsonl'), {
    message: "t.jsonl:1: 'id' must be a non-empty string, got 3",
  });
  t.throws(() => parseSquadJsonl(JSON.stringify({ id: 'a', question: 'q', context: 'c', answers: [] }), 't.jsonl'), { message: /'answers' must be \{"text"/ });
});
