import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DropoutStream, withDropoutStream } from '@adalora/core';
import { disposeEncoderInputs } from '@adalora/training';
import { bertReferenceBatch, fixturePath, loadDebertaFixtureModel, readDebertaReference } from '@adalora/test-support';
import { buildBert } from './bert';
import type { EncoderInputs, EncoderModel } from './encoder-model';
import { HfConfig } from './hf-config';
import { readSafetensors } from './safetensors';
import { WeightStore } from './weights';

// Which config rates reach which dropout sites, and that each site draws its own seed from the
// forward pass's stream: the same stream gives the same outputs, evaluation draws nothing.

function bertFamily(modelType: 'bert' | 'roberta', rates: Record<string, number>): EncoderModel {
  const file = fixturePath(modelType, 'config.json');
  const cfg = HfConfig.parse(readFileSync(file, 'utf8'), file);
  return buildBert(new HfConfig({ ...cfg.raw, ...rates }, file), new WeightStore(readSafetensors(fixturePath(modelType, 'model.safetensors')), 'fixture'), modelType);
}

function debertaBatch(): EncoderInputs {
  const ref = readDebertaReference();
  return { inputIds: tf.tensor2d(ref.input_ids, undefined, 'int32'), attentionMask: tf.tensor2d(ref.attention_mask, undefined, 'int32') };
}

/** Logits of one forward pass in the stream `key`, and how many dropout calls drew from it. */
function pass(model: EncoderModel, batch: EncoderInputs, training: boolean, key: string): { logits: number[]; draws: number } {
  const stream = new DropoutStream(key);
  const logits = withDropoutStream(stream, () => {
    const out = model.forward(batch, training);
    const values = Array.from(out.logits.dataSync());
    tf.dispose([out.logits, out.lastHiddenState]);
    return values;
  });
  return { logits, draws: Number(stream.nextSeed().split('#')[1]) };
}

const all = { hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 };
// 2 layers: embeddings 1 + per layer (attention probabilities, attention output, output) 3 + head
const cases = [
  { name: 'BERT', build: (r: Record<string, number>) => bertFamily('bert', r), batch: () => bertReferenceBatch('bert'), draws: { all: 1 + 2 * 3 + 1, hidden: 1 + 2 * 2 + 1, attention: 2 } },
  { name: 'RoBERTa', build: (r: Record<string, number>) => bertFamily('roberta', r), batch: () => bertReferenceBatch('roberta'), draws: { all: 1 + 2 * 3 + 2, hidden: 1 + 2 * 2 + 2, attention: 2 } },
  { name: 'DeBERTa-v2', build: (r: Record<string, number>) => loadDebertaFixtureModel(r), batch: debertaBatch, draws: null },
];

for (const c of cases) {
  test(`${c.name}: config dropout rates reach their sites; one stream, one result; evaluation draws nothing`, (t) => {
    const batch = c.batch();
    const model = c.build(all);
    const a = pass(model, batch, true, 'k');
    const again = pass(model, batch, true, 'k');
    const other = pass(model, batch, true, 'other');
    t.deepEqual(again, a, 'same stream, same logits and draws');
    t.notDeepEqual(other.logits, a.logits, 'another stream, other masks');
    t.true(a.draws > 0);
    t.is(pass(model, batch, false, 'k').draws, 0, 'evaluation draws nothing');
    model.dispose();
    if (c.draws) {
      t.is(a.draws, c.draws.all, 'hidden and attention dropout 0.1');
      for (const [which, rates] of [['hidden', { ...all, attention_probs_dropout_prob: 0 }], ['attention', { ...all, hidden_dropout_prob: 0 }]] as const) {
        const m = c.build(rates);
        t.is(pass(m, batch, true, 'k').draws, c.draws[which], `only ${which} dropout`);
        m.dispose();
      }
    }
    disposeEncoderInputs(batch);
  });
}
