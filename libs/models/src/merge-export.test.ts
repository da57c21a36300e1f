import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixturePath } from '@adalora/test-support';
import type { EncoderInputs, EncoderModel } from './encoder-model';
import { loadEncoder } from './load-model';
import { mergeAdapters, saveMergedCheckpoint } from './merge-export';
import { loadPeftAdapter } from './peft-adapter';
import { readSafetensors } from './safetensors';

const MODELS = ['bert', 'roberta', 'deberta-v2'] as const;
type ModelType = (typeof MODELS)[number];

interface Reference {
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly token_type_ids: number[][];
  readonly logits: number[][];
  readonly adalora_logits: number[][];
  readonly merged_logits: number[][];
}

function batchOf(m: ModelType, ref: Reference): EncoderInputs {
  return {
    inputIds: tf.tensor2d(ref.input_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(ref.attention_mask, undefined, 'int32'),
    tokenTypeIds: m === 'bert' ? tf.tensor2d(ref.token_type_ids, undefined, 'int32') : undefined,
  };
}

function logitsOf(model: EncoderModel, batch: EncoderInputs): Float32Array {
  return tf.tidy(() => model.forward(batch, false).logits.dataSync() as Float32Array);
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const tmpDirs: string[] = [];
test.after.always(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

for (const m of MODELS) {
  test.serial(`${m}: the merged model reproduces merged_logits and adalora_logits; its checkpoint loads back to the same logits`, async (t) => {
    const ref = JSON.parse(readFileSync(fixturePath(m, 'reference.json'), 'utf8')) as Reference;
    const batch = batchOf(m, ref);
    const baseDir = fixturePath(m);
    const { model } = await loadEncoder(baseDir);
    const { injected } = await loadPeftAdapter(path.join(baseDir, 'adalora-adapter'), model);
    const adapted = logitsOf(model, batch);
    const numAdapters = injected.adapters.size;
    const before = tf.memory().numTensors;

    mergeAdapters(model, injected);
    t.true([...model.linears.values()].every((l) => l.adapter === null), 'adapters detached');
    t.true(tf.memory().numTensors <= before - 3 * numAdapters, 'adapter tensors freed');
    const merged = logitsOf(model, batch);
    const errMerged = maxAbs(merged, ref.merged_logits.flat());
    const errAdapted = maxAbs(merged, adapted);
    t.log(`${m}: max |merged - merged_logits| = ${errMerged.toExponential(2)}, |merged - adapted| = ${errAdapted.toExponential(2)}; base differs by ${maxAbs(ref.logits.flat(), ref.merged_logits.flat()).toExponential(2)}`);
    t.true(errMerged <= 1e-5);
    t.true(maxAbs(merged, ref.adalora_logits.flat()) <= 1e-5);
    t.true(errAdapted <= 1e-5);

    const out = mkdtempSync(path.join(os.tmpdir(), 'merge-export-test-'));
    tmpDirs.push(out);
    await saveMergedCheckpoint(out, model, baseDir);
    const written = readSafetensors(path.join(out, 'model.safetensors'));
    const source = readSafetensors(path.join(baseDir, 'model.safetensors'), { nonFloat: 'skip' });
    t.deepEqual([...written.keys()].sort(), [...source.keys()].sort(), 'same tensor names as the base checkpoint');
    const { model: reloaded } = await loadEncoder(out);
    t.true(maxAbs(logitsOf(reloaded, batch), merged) <= 1e-6);
    reloaded.dispose();
    model.dispose();
    tf.dispose([batch.inputIds, batch.attentionMask, batch.tokenTypeIds ?? []]);
  });
}

test.serial('mergeAdapters refuses adapters of another model', async (t) => {
  const { model: bert } = await loadEncoder(fixturePath('bert'));
  const { model: roberta } = await loadEncoder(fixturePath('roberta'));
  const { injected } = await loadPeftAdapter(fixturePath('bert', 'adalora-adapter'), bert);
  t.throws(() => mergeAdapters(roberta, injected), { message: /has no linear 'bert\.encoder\.layer\.0\./ });
  injected.dispose();
  bert.dispose();
  roberta.dispose();
});
