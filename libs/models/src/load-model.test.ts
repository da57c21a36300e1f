import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bertReferenceBatch, fixturePath, maxAbsError, readBertReference } from '@adalora/test-support';
import { disposeEncoderInputs } from '@adalora/training';
import type { EncoderModel } from './encoder-model';
import { loadEncoder } from './load-model';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors';

const bertDir = fixturePath('bert');
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// A scratch checkpoint folder: BERT's config (optionally edited) and the given weights.
function scratch(t: { teardown(fn: () => void): void }, config: Record<string, unknown> | null = {}, tensors?: Map<string, SafeTensor>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'load-encoder-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  if (config) {
    const base = JSON.parse(readFileSync(path.join(bertDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...base, ...config }));
  }
  if (tensors) writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

function logitsOf(model: EncoderModel): Float32Array {
  const batch = bertReferenceBatch('bert');
  const out = model.forward(batch, false);
  const logits = out.logits.dataSync() as Float32Array;
  out.lastHiddenState.dispose();
  out.logits.dispose();
  disposeEncoderInputs(batch);
  return logits;
}

test.serial('a sharded checkpoint loads identically to the single file', async (t) => {
  const tensors = readSafetensors(path.join(bertDir, 'model.safetensors'));
  const dir = scratch(t);
  copyFileSync(path.join(bertDir, 'config.json'), path.join(dir, 'config.json'));
  const names = [...tensors.keys()].sort();
  const half = Math.floor(names.length / 2);
  const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  [names.slice(0, half), names.slice(half)].forEach((part, i) => {
    writeSafetensors(path.join(dir, shards[i]), new Map(part.map((n) => [n, tensors.get(n)!])));
    part.forEach((n) => (weightMap[n] = shards[i]));
  });
  writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));

  const single = await loadEncoder(bertDir);
  const sharded = await loadEncoder(dir);
  t.deepEqual([...logitsOf(sharded.model)], [...logitsOf(single.model)]);
  t.true(maxAbsError(tf.tensor(logitsOf(sharded.model)), readBertReference('bert').logits) < 1e-5);
  t.deepEqual(sharded.unusedWeights, []);
  const expected = createHash('sha256');
  for (const f of ['config.json', ...shards]) expected.update(readFileSync(path.join(dir, f)));
  t.is(sharded.hash, expected.digest('hex'));
  single.model.dispose();
  sharded.model.dispose();
});

test.serial('hash is sha256 of config.json then model.safetensors, and tracks any byte', async (t) => {
  const a = await loadEncoder(bertDir);
  const expected = createHash('sha256').update(readFileSync(path.join(bertDir, 'config.json'))).update(readFileSync(path.join(bertDir, 'model.safetensors')));
  t.is(a.hash, expected.digest('hex'));
  const dir = scratch(t, { some_extra_field: 1 });
  copyFileSync(path.join(bertDir, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  const b = await loadEncoder(dir);
  t.not(b.hash, a.hash);
  a.model.dispose();
  b.model.dispose();
});

test.serial('an unknown model_type is refused with the supported list', async (t) => {
  const dir = scratch(t, { model_type: 'gpt2' });
  await t.throwsAsync(loadEncoder(dir), { message: new RegExp(`${escape(path.join(dir, 'config.json'))}: model_type 'gpt2' is not supported \\(supported: bert, roberta, deberta-v2\\)`) });
  const none = scratch(t, { model_type: null });
  await t.throwsAsync(loadEncoder(none), { message: /field 'model_type' must be a string/ });
  const multi = scratch(t, { problem_type: 'multi_label_classification' });
  await t.throwsAsync(loadEncoder(multi), { message: /problem_type 'multi_label_classification' is not supported/ });
});

test.serial('a missing weight and a mis-shaped weight are named with the file', async (t) => {
  const tensors = readSafetensors(path.join(bertDir, 'model.safetensors'));
  tensors.delete('bert.encoder.layer.0.attention.self.key.bias');
  const missing = scratch(t, {}, tensors);
  await t.throwsAsync(loadEncoder(missing), { message: new RegExp(`${escape(path.join(missing, 'model.safetensors'))}: missing weight 'bert\\.encoder\\.layer\\.0\\.attention\\.self\\.key\\.bias'`) });

  const shaped = readSafetensors(path.join(bertDir, 'model.safetensors'));
  shaped.set('bert.encoder.layer.1.intermediate.dense.weight', { shape: [32, 64], data: new Float32Array(32 * 64) });
  const dir = scratch(t, {}, shaped);
  await t.throwsAsync(loadEncoder(dir), { message: /weight 'bert\.encoder\.layer\.1\.intermediate\.dense\.weight' has shape \[32,64\], expected \[64,32\]/ });
  // a config that disagrees with the checkpoint is the same fault
  const labels = scratch(t, {}, readSafetensors(path.join(bertDir, 'model.safetensors')));
  await t.throwsAsync(loadEncoder(labels, { numLabels: 2 }), { message: /head weight 'classifier\.weight' has shape \[3,32\], the model needs \[2,32\] .*reinitHead: true/ });
  const before = tf.memory().numTensors;
  await t.throwsAsync(loadEncoder(dir));
  t.is(tf.memory().numTensors, before, 'a failed load leaks no tensors');
});

test.serial('reinitHead: a head made for another label count is replaced from the seed and reported with both shapes; without it the load is refused', async (t) => {
  // the fixture's head is for 3 labels; fine-tune it for 5
  await t.throwsAsync(loadEncoder(bertDir, { numLabels: 5, headSeed: 7 }), {
    message: /model\.safetensors: head weight 'classifier\.weight' has shape \[3,32\], the model needs \[5,32\] \(the checkpoint's head was made for another label count; reinitHead: true/,
  });
  const kept = await loadEncoder(bertDir, { numLabels: 3, headSeed: 7, reinitHead: true });
  t.deepEqual(kept.mismatchedWeights, [], 'a head that fits is kept even with reinitHead');
  const stored = readSafetensors(path.join(bertDir, 'model.safetensors'));
  t.deepEqual(kept.model.headParams.get('classifier.weight')!.dataSync(), stored.get('classifier.weight')!.data);
  const a = await loadEncoder(bertDir, { numLabels: 5, headSeed: 7, reinitHead: true });
  const b = await loadEncoder(bertDir, { numLabels: 5, headSeed: 7, reinitHead: true });
  try {
    t.deepEqual(a.mismatchedWeights, [
      { name: 'classifier.weight', stored: [3, 32], created: [5, 32] },
      { name: 'classifier.bias', stored: [3], created: [5] },
    ]);
    t.false(a.unusedWeights.includes('classifier.weight'), 'the old head was read and replaced, not ignored');
    t.deepEqual(a.model.headParams.get('classifier.weight')!.shape, [5, 32]);
    t.deepEqual(a.model.headParams.get('classifier.bias')!.dataSync(), new Float32Array(5), 'bias zero, as HF initialises it');
    // same seed, same new head: every worker builds the one the coordinator has
    t.deepEqual(a.model.headParams.get('classifier.weight')!.dataSync(), b.model.headParams.get('classifier.weight')!.dataSync());
    t.is(logitsOf(a.model).length, 5 * readBertReference('bert').input_ids.length);
  } finally {
    for (const m of [kept.model, a.model, b.model]) m.dispose();
  }
});

test.serial('missing and corrupt files are errors that name the path', async (t) => {
  const noConfig = scratch(t, null);
  await t.throwsAsync(loadEncoder(noConfig), { message: new RegExp(`${escape(path.join(noConfig, 'config.json'))}: cannot read file \\(ENOENT\\)`) });
  const noWeights = scratch(t);
  await t.throwsAsync(loadEncoder(noWeights), { message: new RegExp(`neither ${escape(path.join(noWeights, 'model.safetensors'))} nor ${escape(path.join(noWeights, 'model.safetensors.index.json'))} exists`) });

  const badConfig = scratch(t, null);
  writeFileSync(path.join(badConfig, 'config.json'), '{"model_type": "bert",');
  await t.throwsAsync(loadEncoder(badConfig), { message: new RegExp(`${escape(path.join(badConfig, 'config.json'))}: not valid JSON`) });

  const corrupt = scratch(t);
  writeFileSync(path.join(corrupt, 'model.safetensors'), readFileSync(path.join(bertDir, 'model.safetensors')).subarray(0, 5000));
  await t.throwsAsync(loadEncoder(corrupt), { message: new RegExp(`safetensors ${escape(path.join(corrupt, 'model.safetensors'))}: tensor '.*' offsets .* run past the data`) });

  const badIndex = scratch(t);
  writeFileSync(path.join(badIndex, 'model.safetensors.index.json'), '{"weight_map": []}');
  await t.throwsAsync(loadEncoder(badIndex), { message: /model\.safetensors\.index\.json: expected an object with a 'weight_map' object/ });
  writeFileSync(path.join(badIndex, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': '../elsewhere.safetensors' } }));
  await t.throwsAsync(loadEncoder(badIndex), { message: /weight_map\['a\.weight'\] must be a shard file name in the same folder/ });
  writeFileSync(path.join(badIndex, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': 'model-00001-of-00002.safetensors' } }));
  await t.throwsAsync(loadEncoder(badIndex), { message: new RegExp(`${escape(path.join(badIndex, 'model-00001-of-00002.safetensors'))}: cannot read file \\(ENOENT\\)`) });
});

test.serial('deberta-v2 checkpoints are dispatched to the DeBERTa-v2 builder', async (t) => {
  // parity is deberta-v2's own test; here only that the loader routes the model type there
  const { model, unusedWeights } = await loadEncoder(fixturePath('deberta-v2'));
  t.is(model.modelType, 'deberta-v2');
  t.deepEqual(unusedWeights, []);
  model.dispose();
});
