import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAdaLoraConfig } from '@adalora/config';
import { adapterKey, fromPeftAdapterConfig, moduleId, type ModuleId, type SvdAdapter } from '@adalora/core';
import { fixturePath } from '@adalora/test-support';
import type { EncoderInputs, EncoderModel } from './encoder-model';
import { injectAdapters } from './inject-adapters';
import { loadEncoder } from './load-model';
import { loadPeftAdapter, loadTrainableState, readPeftAdapterTensors, savePeftAdapter } from './peft-adapter';
import { encodeSafetensors } from './safetensors';

const MODELS = ['bert', 'roberta', 'deberta-v2'] as const;
type ModelType = (typeof MODELS)[number];

interface Reference {
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly token_type_ids: number[][];
  readonly adalora_logits: number[][];
  readonly logits: number[][];
}

const readReference = (m: ModelType): Reference => JSON.parse(readFileSync(fixturePath(m, 'reference.json'), 'utf8')) as Reference;

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
  if (a.length !== b.length) throw new Error(`maxAbs: ${a.length} vs ${b.length} values`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const tmpDirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'peft-adapter-test-'));
  tmpDirs.push(d);
  return d;
}
test.after.always(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

for (const m of MODELS) {
  test.serial(`${m}: the fixture adapter reproduces adalora_logits; our export has the fixture's names, shapes, values and config; a save/load round trip reproduces the logits`, async (t) => {
    const ref = readReference(m);
    const batch = batchOf(m, ref);
    const { model } = await loadEncoder(fixturePath(m));
    const adapterDir = fixturePath(m, 'adalora-adapter');
    const loaded = await loadPeftAdapter(adapterDir, model);
    const logits = logitsOf(model, batch);
    const err = maxAbs(logits, ref.adalora_logits.flat());
    t.log(`${m}: max |logits - adalora_logits| = ${err.toExponential(2)} (plain model differs from it by ${maxAbs(ref.logits.flat(), ref.adalora_logits.flat()).toExponential(2)})`);
    t.true(err <= 1e-5);
    t.true(loaded.rankPattern !== null && [...loaded.rankPattern.values()].every((k) => k.filter(Boolean).length === 3));
    for (const a of loaded.injected.adapters.values()) t.is(a.rank, 3);
    // the trainables are the adapters' current (resized) variables
    for (const [id, a] of loaded.injected.adapters) t.is(loaded.injected.trainables.get(adapterKey(id, 'lora_E')), a.params().get(adapterKey(id, 'lora_E')));

    // export: same config and tensors as peft wrote
    const out = tmp();
    await savePeftAdapter(out, { injected: loaded.injected, config: loaded.config, rankPattern: loaded.rankPattern, taskType: loaded.taskType ?? undefined });
    const ours = readJson(path.join(out, 'adapter_config.json'));
    const theirs = readJson(path.join(adapterDir, 'adapter_config.json'));
    t.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    for (const key of Object.keys(theirs)) {
      if (key === 'target_modules' || key === 'modules_to_save') t.deepEqual([...(ours[key] as string[])].sort(), [...(theirs[key] as string[])].sort(), key);
      else t.deepEqual(ours[key], theirs[key], key);
    }
    const ourTensors = readPeftAdapterTensors(out);
    const fixtureTensors = readPeftAdapterTensors(adapterDir);
    t.deepEqual([...ourTensors.keys()].sort(), [...fixtureTensors.keys()].sort());
    for (const [name, ft] of fixtureTensors) {
      const ot = ourTensors.get(name)!;
      t.deepEqual(ot.shape, ft.shape, name);
      t.is(maxAbs(ot.data, ft.data), 0, name);
    }

    // round trip into a fresh copy of the base model
    const { model: fresh } = await loadEncoder(fixturePath(m));
    const again = await loadPeftAdapter(out, fresh);
    t.true(maxAbs(logitsOf(fresh, batch), logits) <= 1e-6);
    again.injected.dispose();
    fresh.dispose();
    loaded.injected.dispose();
    model.dispose();
    tf.dispose([batch.inputIds, batch.attentionMask, batch.tokenTypeIds ?? []]);
  });
}

test.serial('a rank pattern that keeps no triplet of a module saves k = 0 tensors and loads back to the same function', async (t) => {
  const ref = readReference('bert');
  const batch = batchOf('bert', ref);
  const { model } = await loadEncoder(fixturePath('bert'));
  const config = parseAdaLoraConfig({ initR: 4, targetR: 2, totalStep: 10, targetModules: ['query', 'value', 'dense'] });
  const injected = injectAdapters(model, config, 7);
  const ids = [...injected.adapters.keys()];
  const pattern = new Map<ModuleId, boolean[]>();
  ids.forEach((id, i) => pattern.set(id, i === 0 ? [false, false, false, false] : i % 2 ? [true, false, true, true] : [false, true, false, false]));
  // random singular values, zeroed where the pattern masks them (as the allocator leaves E)
  tf.tidy(() => {
    for (const [id, a] of injected.adapters) {
      const keep = tf.tensor2d(pattern.get(id)!.map((k) => [k ? 1 : 0]));
      (a as SvdAdapter).E.assign(tf.randomNormal([4, 1], 0, 1, 'float32', 3).mul(keep));
    }
  });
  const before = logitsOf(model, batch);
  const out = tmp();
  await savePeftAdapter(out, { injected, config, rankPattern: pattern });
  const tensors = readPeftAdapterTensors(out);
  const first = ids[0];
  t.deepEqual(tensors.get(`base_model.model.${first}.lora_A`)!.shape, [0, 32]);
  t.deepEqual(tensors.get(`base_model.model.${first}.lora_B`)!.shape, [model.linears.get(first)!.outFeatures, 0]);
  t.deepEqual(tensors.get(`base_model.model.${first}.lora_E`)!.shape, [0, 1]);
  t.deepEqual(tensors.get(`base_model.model.${ids[1]}.lora_A`)!.shape, [3, model.linears.get(ids[1])!.inFeatures]);
  const { model: fresh } = await loadEncoder(fixturePath('bert'));
  const loaded = await loadPeftAdapter(out, fresh);
  t.is(loaded.injected.adapters.get(first)!.rank, 0);
  t.is(loaded.injected.adapters.get(ids[2])!.rank, 1);
  t.true(maxAbs(logitsOf(fresh, batch), before) <= 1e-6);
  loaded.injected.dispose();
  injected.dispose();
  fresh.dispose();
  model.dispose();
});

test.serial('LoRA adapters are written in peft LORA format (lora_A.weight / lora_B.weight, r) and load back', async (t) => {
  const ref = readReference('roberta');
  const batch = batchOf('roberta', ref);
  const { model } = await loadEncoder(fixturePath('roberta'));
  const config = parseAdaLoraConfig({ mode: 'lora', initR: 2, loraAlpha: 4, totalStep: 1, targetModules: ['query', 'value'] });
  const injected = injectAdapters(model, config, 1);
  tf.tidy(() => injected.adapters.forEach((a, id) => a.B.assign(tf.randomNormal(a.B.shape, 0, 0.5, 'float32', id.length))));
  const before = logitsOf(model, batch);
  const out = tmp();
  await savePeftAdapter(out, { injected, config, rankPattern: null });
  const json = readJson(path.join(out, 'adapter_config.json'));
  t.is(json.peft_type, 'LORA');
  t.is(json.r, 2);
  const names = [...readPeftAdapterTensors(out).keys()];
  t.true(names.includes('base_model.model.roberta.encoder.layer.0.attention.self.query.lora_A.weight'));
  t.true(names.includes('base_model.model.roberta.encoder.layer.1.attention.self.value.lora_B.weight'));
  t.true(names.includes('base_model.model.classifier.out_proj.weight'));
  t.false(names.some((n) => n.includes('lora_E')));
  const { model: fresh } = await loadEncoder(fixturePath('roberta'));
  const loaded = await loadPeftAdapter(out, fresh);
  t.is(loaded.config.mode, 'lora');
  t.true(maxAbs(logitsOf(fresh, batch), before) <= 1e-6);
  t.true(maxAbs(before, ref.logits.flat()) > 1e-4, 'the LoRA branch changes the function (the test is not vacuous)');
  loaded.injected.dispose();
  injected.dispose();
  fresh.dispose();
  model.dispose();
});

test.serial("loadTrainableState maps peft's in-memory names (.default, modules_to_save.default) onto the trainables", async (t) => {
  const trace = fixturePath('traces', 'public-bert');
  const { model } = await loadEncoder(path.join(trace, 'base'));
  const { config } = fromPeftAdapterConfig(readJson(path.join(trace, 'initial-adapter', 'adapter_config.json')));
  const injected = injectAdapters(model, config, 99); // random values, to be overwritten
  loadTrainableState(path.join(trace, 'initial_trainable.safetensors'), injected);
  // the same initial state as peft's saved initial adapter
  const saved = readPeftAdapterTensors(path.join(trace, 'initial-adapter'));
  t.is(saved.size, injected.trainables.size);
  for (const [key, v] of injected.trainables) {
    const s = saved.get(`base_model.model.${key}`);
    t.truthy(s, key);
    t.is(maxAbs(v.dataSync(), s!.data), 0, key);
  }
  // a file that lacks a trainable, or has one too many, is refused with its name
  const dir = tmp();
  const partial = new Map(saved);
  partial.delete('base_model.model.classifier.bias');
  writeFileSync(path.join(dir, 'partial.safetensors'), encodeSafetensors(partial));
  t.throws(() => loadTrainableState(path.join(dir, 'partial.safetensors'), injected), { message: /partial\.safetensors: missing tensor 'classifier\.bias' \(\d+ of \d+ present\)$/ });
  const extra = new Map(saved).set('base_model.model.bert.pooler.dense.lora_A', { shape: [4, 32], data: new Float32Array(128) });
  writeFileSync(path.join(dir, 'extra.safetensors'), encodeSafetensors(extra));
  t.throws(() => loadTrainableState(path.join(dir, 'extra.safetensors'), injected), { message: /extra\.safetensors: unknown tensor 'bert\.pooler\.dense\.lora_A'$/ });
  injected.dispose();
  model.dispose();
});

// --- refusals: the model is left without adapters -------------------------------------

async function expectRefusal(t: import('ava').ExecutionContext, modelType: ModelType, dir: string, message: RegExp): Promise<void> {
  const { model } = await loadEncoder(fixturePath(modelType));
  await t.throwsAsync(loadPeftAdapter(dir, model), { message });
  t.true([...model.linears.values()].every((l) => l.adapter === null), 'no adapter left attached');
  model.dispose();
}

function tamperedCopy(edit: (dir: string) => void): string {
  const dir = tmp();
  cpSync(fixturePath('bert', 'adalora-adapter'), dir, { recursive: true });
  edit(dir);
  return dir;
}

test.serial('the bert adapter on the roberta model fails naming the missing module', async (t) => {
  await expectRefusal(t, 'roberta', fixturePath('bert', 'adalora-adapter'), /module 'bert\.encoder\.layer\.\d\.[a-z.]+', which this roberta model does not have/);
});

test.serial('a tampered tensor shape fails naming the module and both shapes', async (t) => {
  const dir = tamperedCopy((d) => {
    const tensors = readPeftAdapterTensors(d);
    tensors.set('base_model.model.bert.encoder.layer.1.intermediate.dense.lora_B', { shape: [32, 3], data: new Float32Array(96) });
    writeFileSync(path.join(d, 'adapter_model.safetensors'), encodeSafetensors(tensors));
  });
  await expectRefusal(t, 'bert', dir, /'bert\.encoder\.layer\.1\.intermediate\.dense\.lora_B' has shape \[32,3\], expected \[64,3\]/);
});

test.serial('a head of the wrong shape fails naming the tensor', async (t) => {
  const dir = tamperedCopy((d) => {
    const tensors = readPeftAdapterTensors(d);
    tensors.set('base_model.model.classifier.weight', { shape: [2, 32], data: new Float32Array(64) });
    writeFileSync(path.join(d, 'adapter_model.safetensors'), encodeSafetensors(tensors));
  });
  await expectRefusal(t, 'bert', dir, /adapter_model\.safetensors: tensor 'classifier\.weight' has shape \[2,32\], expected \[3,32\]$/);
});

test.serial('a targeted module without tensors fails naming it', async (t) => {
  const dir = tamperedCopy((d) => {
    const tensors = readPeftAdapterTensors(d);
    for (const p of ['lora_A', 'lora_B', 'lora_E']) tensors.delete(`base_model.model.bert.encoder.layer.0.attention.self.key.${p}`);
    writeFileSync(path.join(d, 'adapter_model.safetensors'), encodeSafetensors(tensors));
  });
  await expectRefusal(t, 'bert', dir, /no adapter tensors for module 'bert\.encoder\.layer\.0\.attention\.self\.key'/);
});

test.serial('a missing adapter_config.json is named', async (t) => {
  const dir = tamperedCopy((d) => rmSync(path.join(d, 'adapter_config.json')));
  await expectRefusal(t, 'bert', dir, /adapter_config\.json: not a PEFT adapter directory/);
});

test.serial('a wrong peft_type is named', async (t) => {
  const dir = tamperedCopy((d) => {
    const json = readJson(path.join(d, 'adapter_config.json'));
    writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ ...json, peft_type: 'IA3' }));
  });
  await expectRefusal(t, 'bert', dir, /peft_type: expected "ADALORA" or "LORA", got "IA3"/);
});

test.serial('a rank_pattern entry whose length is not init_r is named', async (t) => {
  const dir = tamperedCopy((d) => {
    const json = readJson(path.join(d, 'adapter_config.json'));
    const rp = { ...(json.rank_pattern as Record<string, boolean[]>), 'bert.encoder.layer.0.output.dense.lora_E': [true, true, true] };
    writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ ...json, rank_pattern: rp }));
  });
  await expectRefusal(t, 'bert', dir, /rank_pattern.*'bert\.encoder\.layer\.0\.output\.dense\.lora_E' must be an array of 4 booleans/);
});

test.serial('a rank_pattern that disagrees with the tensors (keeps 2, file has 3) is named', async (t) => {
  const dir = tamperedCopy((d) => {
    const json = readJson(path.join(d, 'adapter_config.json'));
    const rp = { ...(json.rank_pattern as Record<string, boolean[]>), 'bert.encoder.layer.0.output.dense.lora_E': [true, false, true, false] };
    writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ ...json, rank_pattern: rp }));
  });
  await expectRefusal(t, 'bert', dir, /'bert\.encoder\.layer\.0\.output\.dense\.lora_A' has shape \[3,64\], expected \[2,64\].*rank_pattern keeps 2 of 4/);
});

test('savePeftAdapter refuses a rank pattern for a module without an adapter', async (t) => {
  const { model } = await loadEncoder(fixturePath('bert'));
  const config = parseAdaLoraConfig({ initR: 2, targetR: 1, totalStep: 10, targetModules: ['query'] });
  const injected = injectAdapters(model, config);
  const pattern = new Map([[moduleId('bert.encoder.layer.0.attention.self.key'), [true, false]]]);
  await t.throwsAsync(savePeftAdapter(tmp(), { injected, config, rankPattern: pattern }), { message: /names module 'bert\.encoder\.layer\.0\.attention\.self\.key', which has no adapter/ });
  injected.dispose();
  model.dispose();
});
