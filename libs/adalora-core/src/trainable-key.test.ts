import test from 'ava';
import { moduleId } from './module-id';
import { adapterKey, moduleTensorKey, parseTrainableKey } from './trainable-key';

const query = moduleId('bert.encoder.layer.0.attention.self.query');

test('an adapter key is the module path and the peft parameter, and parses back', (t) => {
  for (const param of ['lora_A', 'lora_E', 'lora_B'] as const) {
    const key = adapterKey(query, param);
    t.is<string, string>(key, `bert.encoder.layer.0.attention.self.query.${param}`);
    t.deepEqual(parseTrainableKey(key), { kind: 'adapter', module: query, param, key });
  }
});

test("a module tensor's key is its HF weight name, and parses back", (t) => {
  const outProj = moduleId('classifier.out_proj');
  t.is<string, string>(moduleTensorKey(moduleId('classifier'), 'weight'), 'classifier.weight');
  t.deepEqual(parseTrainableKey(moduleTensorKey(outProj, 'bias')), { kind: 'module', module: outProj, param: 'bias', key: 'classifier.out_proj.bias' });
});

test('parseTrainableKey refuses names of neither form, saying what the forms are', (t) => {
  for (const name of ['classifier', 'classifier.gamma', 'lora_A', '.lora_A', 'query.lora_C', '']) {
    t.throws(() => parseTrainableKey(name), { message: new RegExp(`trainable key '${name.replace(/\./g, '\\.')}' is neither '<module path>\\.lora_A\\|lora_E\\|lora_B'.*nor '<module path>\\.weight\\|bias'`) });
  }
});

test('parseTrainableKey refuses a bad module path and peft LoRA file names', (t) => {
  t.throws(() => parseTrainableKey('bert..query.lora_A'), { message: "trainable key 'bert..query.lora_A': 'bert..query' is not a dotted module path" });
  t.throws(() => parseTrainableKey('q.lora_B.weight'), { message: "trainable key 'q.lora_B.weight' is peft's file name of adapter parameter 'q.lora_B', not a trainable key" });
});
