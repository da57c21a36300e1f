import test from 'ava';
import { loadTokenizer, parseSquadJson, prepareTrainFeatures, prepareValidationFeatures, qaFeatureDataset } from '@adalora/data';
import type { QaDataConfig } from '@adalora/config';
import { fixturePath, syntheticSquad } from '@adalora/test-support';
import { summarizeQaEval } from './qa-evaluation';

const tok = loadTokenizer(fixturePath('tokenizer'));
const vocabulary = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i)!);
const { v1, v2 } = syntheticSquad(vocabulary, { seed: 21, articles: 2 });
const SEQ = 48;
const settings: QaDataConfig = { squadVersion: 'auto', docStride: 16, nBest: 20, maxAnswerLength: 30, nullScoreThreshold: 0 };

// outputs as the workers send them: per window, SEQ start logits then SEQ end logits
function peakedOutputs(spans: readonly (readonly [number, number])[]): Float32Array {
  const out = new Float32Array(spans.length * 2 * SEQ);
  spans.forEach(([s, e], i) => {
    out[i * 2 * SEQ + s] = 10;
    out[i * 2 * SEQ + SEQ + e] = 10;
  });
  return out;
}

for (const [name, json, version2] of [['v1.1', v1, false], ['v2.0', v2, true]] as const) {
  test(`${name}: start/end logits peaked on the gold spans score 100; the loss is the QA loss of those logits`, (t) => {
    const examples = parseSquadJson(JSON.stringify(json));
    const opts = { maxLength: SEQ, docStride: settings.docStride };
    const dev = qaFeatureDataset(prepareTrainFeatures(examples, tok, opts));
    const features = prepareValidationFeatures(examples, tok, opts);
    const spans = dev.examples.map((e) => e.label as readonly [number, number]);
    const summary = summarizeQaEval({ examples, features, version2, settings }, dev, peakedOutputs(spans));
    t.is(summary.metrics.em, 100);
    t.is(summary.metrics.f1, 100);
    t.is(summary.samples, features.length);
    // each side: -log softmax = log(e^10 + SEQ - 1) - 10, the same for every window
    const expected = Math.log(Math.exp(10) + SEQ - 1) - 10;
    t.true(Math.abs(summary.loss - expected) < 1e-9, `${summary.loss} vs ${expected}`);
    if (version2) t.like(summary.metrics, { HasAns_em: 100, NoAns_em: 100, HasAns_total: 32, NoAns_total: 16 });
    else t.deepEqual(Object.keys(summary.metrics).sort(), ['em', 'f1']);
    // every window pointed at token 0: v1.1 answers the empty span nowhere, v2.0 says "no answer" everywhere
    const nothing = summarizeQaEval({ examples, features, version2, settings }, dev, peakedOutputs(spans.map(() => [0, 0] as const)));
    if (version2) {
      t.like(nothing.metrics, { HasAns_em: 0, NoAns_em: 100 });
      t.true(Math.abs(nothing.metrics.em - (100 * 16) / 48) < 1e-9);
    }
    else t.true(nothing.metrics.em < 100);
  });
}

test('outputs that are not [windows, 2·seq] are refused', (t) => {
  const examples = parseSquadJson(JSON.stringify(v1));
  const dev = qaFeatureDataset(prepareTrainFeatures(examples, tok, { maxLength: SEQ, docStride: 16 }));
  const features = prepareValidationFeatures(examples, tok, { maxLength: SEQ, docStride: 16 });
  t.throws(() => summarizeQaEval({ examples, features, version2: false, settings }, dev, new Float32Array(dev.examples.length * 3)), { message: /is not \[windows, 2·seq\]/ });
});
