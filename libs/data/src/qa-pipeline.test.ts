import test from 'ava';
import * as path from 'node:path';
import { prepareTrainFeatures, prepareValidationFeatures } from './qa-features';
import { postprocessQaPredictions } from './qa-postprocess';
import { squadScores } from './squad-metrics';
import { parseSquadJson } from './squad-reader';
import { loadTokenizer } from './tokenizer';
import { fixturePath, syntheticSquad } from '@adalora/test-support';

// The building blocks chained: read, window, label; logits that put all weight on the labels
// must come back, through the offsets and the post-processing, as the gold answers.
const tok = loadTokenizer(fixturePath('tokenizer'));
const vocabulary = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i)!);
const { v1, v2 } = syntheticSquad(vocabulary, { seed: 11 });
const opts = { maxLength: 48, docStride: 16 };

for (const [name, json, version2WithNegative] of [['v1.1', v1, false], ['v2.0', v2, true]] as const) {
  test(`${name}: logits peaked on the training labels score 100 EM / F1`, (t) => {
    const examples = parseSquadJson(JSON.stringify(json), name);
    const train = prepareTrainFeatures(examples, tok, opts);
    const evalFeatures = prepareValidationFeatures(examples, tok, opts);
    t.is(train.length, evalFeatures.length);
    t.true(train.length > examples.length, 'contexts of 80 words need several 48-token windows');
    const peaked = (pos: number) => Array.from({ length: opts.maxLength }, (_, i) => (i === pos ? 10 : 0));
    const { predictions } = postprocessQaPredictions(
      examples,
      evalFeatures,
      train.map((f) => peaked(f.startPosition)),
      train.map((f) => peaked(f.endPosition)),
      { version2WithNegative },
    );
    const scores = squadScores(examples, predictions);
    t.is(scores.exact, 100);
    t.is(scores.f1, 100);
    t.is(scores.total, 240);
    if (version2WithNegative) t.is(scores.NoAns_total, 80);
  });
}
