import test from 'ava';
import { adapterKey, moduleId, moduleTensorKey } from '@adalora/core';
import { parsePeftTensorName, peftTensorName } from './peft-tensor-name';

const query = moduleId('bert.encoder.layer.0.attention.self.query');
const headWeight = moduleTensorKey(moduleId('classifier'), 'weight');

test('peft file names: AdaLoRA parameters bare, LoRA parameters with .weight, head tensors by HF name', (t) => {
  t.is(peftTensorName(adapterKey(query, 'lora_E'), 'adalora'), 'base_model.model.bert.encoder.layer.0.attention.self.query.lora_E');
  t.is(peftTensorName(adapterKey(query, 'lora_A'), 'lora'), 'base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight');
  t.is(peftTensorName(headWeight, 'lora'), 'base_model.model.classifier.weight');
});

test('a peft name, saved or in memory, parses back to its trainable key', (t) => {
  for (const mode of ['adalora', 'lora'] as const) {
    for (const key of [adapterKey(query, 'lora_A'), adapterKey(query, 'lora_B'), headWeight]) t.is(parsePeftTensorName(peftTensorName(key, mode))?.key, key);
  }
  t.is(parsePeftTensorName('base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.default')?.key, adapterKey(query, 'lora_A'));
  t.is(parsePeftTensorName('base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.default.weight')?.key, adapterKey(query, 'lora_B'));
  t.is(parsePeftTensorName('base_model.model.classifier.modules_to_save.default.weight')?.key, headWeight);
  t.is(parsePeftTensorName('classifier.weight')?.key, headWeight, 'the prefix may be absent');
});

test('a name that stands for no trainable parses to null', (t) => {
  for (const name of ['base_model.model.classifier', 'base_model.model.bert.embeddings.position_ids', 'base_model.model.q.lora_C']) t.is(parsePeftTensorName(name), null);
});
