import test from 'ava';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fixturePath } from '@adalora/test-support';
import { loadPretokenizedJsonl, pretokenizedFromString } from './pretokenized';

const traceDir = fixturePath('traces', 'public-bert');

test('the public-bert train.jsonl equals the ids and labels recorded in trace.json', (t) => {
  const ds = loadPretokenizedJsonl(path.join(traceDir, 'train.jsonl'));
  const meta = (JSON.parse(readFileSync(path.join(traceDir, 'trace.json'), 'utf8')) as {
    meta: { data: { input_ids: number[][]; labels: number[] } };
  }).meta;
  t.is(ds.examples.length, 64);
  t.is(ds.numLabels, Math.max(...meta.data.labels) + 1);
  ds.examples.forEach((e, i) => {
    t.deepEqual(Array.from(e.inputIds), meta.data.input_ids[i]);
    t.is(e.label, meta.data.labels[i]);
    t.is(e.attentionMask, undefined);
    t.is(e.tokenTypeIds, undefined);
  });
});

test('optional attention_mask and token_type_ids are read as int32', (t) => {
  const ds = pretokenizedFromString('{"input_ids":[2,5,3,0],"attention_mask":[1,1,1,0],"token_type_ids":[0,0,0,0],"label":1}\n', { numLabels: 3 });
  t.deepEqual(Array.from(ds.examples[0].attentionMask!), [1, 1, 1, 0]);
  t.true(ds.examples[0].tokenTypeIds instanceof Int32Array);
  t.is(ds.numLabels, 3);
  const reg = pretokenizedFromString('{"input_ids":[2],"label":0.25}\n', { task: 'regression' });
  t.is(reg.numLabels, 1);
  t.is(reg.examples[0].label, 0.25);
  // All-zero labels still make a classification set of at least 2 classes.
  t.is(pretokenizedFromString('{"input_ids":[2],"label":0}\n').numLabels, 2);
});

test('bad rows are reported with file, line and problem', (t) => {
  const bad = (s: string, opts = {}) => () => pretokenizedFromString(`{"input_ids":[1],"label":0}\n${s}\n`, opts, 'p.jsonl');
  t.throws(bad('{"label":0}'), { code: 'DATA_ERR_MISSING_COLUMN', message: 'p.jsonl:2: missing column "input_ids"' });
  t.throws(bad('{"input_ids":[1]}'), { code: 'DATA_ERR_MISSING_COLUMN', message: 'p.jsonl:2: missing column "label"' });
  t.throws(bad('{"input_ids":[],"label":0}'), { code: 'DATA_ERR_BAD_FIELD', message: /non-empty array/ });
  t.throws(bad('{"input_ids":[1,2.5],"label":0}'), { code: 'DATA_ERR_BAD_FIELD', message: 'p.jsonl:2: input_ids[1] must be an integer in [0, 2^31), got 2.5' });
  t.throws(bad('{"input_ids":[1,2],"attention_mask":[1],"label":0}'), { code: 'DATA_ERR_BAD_FIELD', message: /attention_mask has 1 entries, input_ids has 2/ });
  t.throws(bad('{"input_ids":[1,2],"attention_mask":[1,2],"label":0}'), { code: 'DATA_ERR_BAD_FIELD', message: /0 or 1/ });
  t.throws(bad('{"input_ids":[1],"label":"pos"}'), { code: 'DATA_ERR_BAD_LABEL', message: /^p\.jsonl:2: label must be a finite number/ });
  t.throws(bad('{"input_ids":[1],"label":1.5}'), { code: 'DATA_ERR_BAD_LABEL', message: /integer >= 0/ });
  t.throws(bad('{"input_ids":[1],"label":3}', { numLabels: 3 }), { code: 'DATA_ERR_BAD_LABEL', message: /not below numLabels 3/ });
  t.throws(bad('{"input_ids":[1],"label":0'), { code: 'DATA_ERR_INVALID_JSON', message: /^p\.jsonl:2: invalid JSON on line 2/ });
  t.throws(() => pretokenizedFromString('', {}, 'e.jsonl'), { code: 'DATA_ERR_EMPTY_FILE' });
});
