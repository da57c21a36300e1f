import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseAdaLoraConfig } from '@adalora/config';
import { fixturePath } from '@adalora/test-support';
import { moduleId } from './module-id';
import { fromPeftAdapterConfig, toPeftAdapterConfig } from './peft-adapter-config';

const readJson = (rel: string) => JSON.parse(readFileSync(fixturePath(rel), 'utf8')) as Record<string, unknown>;

test('reads the AdaLoRA adapter_config.json peft wrote, rank pattern included', (t) => {
  const parsed = fromPeftAdapterConfig(readJson('bert/adalora-adapter/adapter_config.json'));
  t.like(parsed.config, { mode: 'adalora', initR: 4, targetR: 2, tinit: 1, tfinal: 1, deltaT: 1, totalStep: 10, loraAlpha: 8, orthRegWeight: 0.5 });
  t.deepEqual([...parsed.config.modulesToSave], ['classifier', 'score']);
  t.is(parsed.taskType, 'SEQ_CLS');
  t.is(parsed.rankPattern?.size, 12);
  t.deepEqual(parsed.rankPattern?.get(moduleId('bert.encoder.layer.1.output.dense')), [true, true, true, false]);
});

test('writes exactly what peft wrote (same keys, same values)', (t) => {
  for (const rel of ['bert/adalora-adapter/adapter_config.json', 'traces/public-bert/final-adapter/adapter_config.json']) {
    const json = readJson(rel);
    const parsed = fromPeftAdapterConfig(json);
    const written = toPeftAdapterConfig(parsed.config, { taskType: 'SEQ_CLS', rankPattern: parsed.rankPattern });
    t.deepEqual(Object.keys(written).sort(), Object.keys(json).sort(), rel);
    t.deepEqual(written, json, rel);
  }
});

test('an adapter without rank pattern (before the end of training) has rankPattern null', (t) => {
  const json = readJson('traces/public-bert/initial-adapter/adapter_config.json');
  const parsed = fromPeftAdapterConfig(json);
  t.is(parsed.rankPattern, null);
  t.is(parsed.config.totalStep, 24);
  t.deepEqual(toPeftAdapterConfig(parsed.config, { inferenceMode: false }), json);
});

test('LoRA mode writes peft_type LORA with r and reads back (totalStep from defaults)', (t) => {
  const cfg = parseAdaLoraConfig({ mode: 'lora', initR: 8, loraAlpha: 16, totalStep: 50, targetModules: ['query', 'value'], modulesToSave: ['classifier'] });
  const json = toPeftAdapterConfig(cfg);
  t.is(json.peft_type, 'LORA');
  t.is(json.r, 8);
  t.is(json.lora_alpha, 16);
  t.false('init_r' in json || 'total_step' in json || 'orth_reg_weight' in json);
  const back = fromPeftAdapterConfig(json, { totalStep: 50 });
  t.deepEqual(back.config, cfg);
  t.is(back.rankPattern, null);
  t.throws(() => fromPeftAdapterConfig(json), { message: /no totalStep in a LORA config.*required.*defaults.totalStep/ });
});

test('refuses peft features it does not reproduce and bad values, naming the key', (t) => {
  const good = readJson('bert/adalora-adapter/adapter_config.json');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ peft_type: 'IA3' }, /peft_type: expected "ADALORA" or "LORA"/],
    [{ use_dora: true }, /use_dora: .*only false/],
    [{ use_rslora: true }, /use_rslora/],
    [{ bias: 'all' }, /bias: .*"none"/],
    [{ target_modules: '.*query' }, /target_modules: a regular expression/],
    [{ layers_to_transform: [0] }, /layers_to_transform/],
    [{ total_step: 0 }, /total_step: must be an integer >= 1, got 0/],
    [{ target_r: 5 }, /target_r: must be <= initR/],
    [{ rank_pattern: { 'bert.encoder.layer.0.attention.self.query.lora_E': [true] } }, /rank_pattern: .*4 booleans/],
    [{ rank_pattern: { 'bert.encoder.layer.0.attention.self.query.lora_A': [true, true, true, true] } }, /rank_pattern: key .* '.lora_E'/],
  ];
  for (const [patch, message] of cases) {
    t.throws(() => fromPeftAdapterConfig({ ...good, ...patch }), { message }, JSON.stringify(patch));
  }
  t.throws(() => fromPeftAdapterConfig([]), { message: /adapter_config.json \(root\)/ });
});

test('the rank pattern keys may carry the adapter name (peft in-memory form)', (t) => {
  const good = readJson('bert/adalora-adapter/adapter_config.json');
  const parsed = fromPeftAdapterConfig({ ...good, rank_pattern: { 'bert.encoder.layer.0.output.dense.lora_E.default': [true, false, true, false] } });
  t.deepEqual([...parsed.rankPattern!], [[moduleId('bert.encoder.layer.0.output.dense'), [true, false, true, false]]]);
});
