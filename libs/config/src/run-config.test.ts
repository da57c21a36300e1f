import test from 'ava';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdaLoraConfig } from './adalora-config';
import { BUILTIN_MODEL, RANK_RECOVERY_DEFAULTS } from './rank-recovery-defaults';
import { applyOverrides, mergeConfig, parseRunConfig, readConfigFile } from './run-config';
import { runAdaLoraConfig } from './run-adalora-config';

/** `obj` with `value` set at the dotted `path` (a test-side helper, independent of applyOverrides). */
function withField(path: string, value: unknown, obj: Record<string, unknown> = {}): Record<string, unknown> {
  const out = structuredClone(obj);
  const keys = path.split('.');
  let node = out;
  for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
  return out;
}

test('parseRunConfig: defaults of an empty config (the built-in job)', (t) => {
  t.deepEqual(parseRunConfig({}), {
    model: BUILTIN_MODEL,
    tokenizer: undefined,
    initAdapter: undefined,
    resume: undefined,
    reinitHead: false,
    data: {
      train: undefined,
      dev: undefined,
      format: 'auto',
      textColumn: 'sentence',
      textPairColumn: undefined,
      labelColumn: 'label',
      labels: undefined,
      maxLength: 128,
      task: 'classification',
      metric: 'accuracy',
    },
    // peft's defaults, and the run's own targets (every encoder linear) and saved head
    adalora: {
      mode: 'adalora',
      initR: 12,
      targetR: 8,
      tinit: 0,
      tfinal: 0,
      deltaT: 1,
      beta1: 0.85,
      beta2: 0.85,
      orthRegWeight: 0.5,
      totalStep: undefined, // the run's optimizer steps, once the data is counted
      loraAlpha: 8,
      loraDropout: 0,
      targetModules: ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense', 'query_proj', 'key_proj', 'value_proj'],
      modulesToSave: ['classifier'],
    },
    training: {
      batchSize: 32,
      epochs: 3,
      maxSteps: undefined,
      lr: 1e-3,
      weightDecay: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      schedule: 'linear',
      warmupSteps: 0,
      seed: 42,
      shuffle: true,
      dropLast: false,
      microBatch: 16,
      evalEvery: 0,
      checkpointEvery: 0,
      saveTotalLimit: undefined,
      earlyStoppingPatience: undefined,
      earlyStoppingThreshold: 0,
    },
    cluster: { host: '127.0.0.1', port: 7070, minWorkers: 1, backend: 'auto', wire: 'float64', stepTimeoutMs: 'auto', stepTimeoutFloorMs: 10_000, heartbeatMs: 2_000, maxConnections: 64, handshakeTimeoutMs: 5000 },
    outputDir: 'runs/latest',
  });
  t.deepEqual(parseRunConfig(undefined), parseRunConfig({}));
  t.deepEqual(parseRunConfig(null), parseRunConfig({}));
});

test('parseRunConfig: keeps every given value', (t) => {
  const raw = {
    model: 'models/bert',
    tokenizer: 'tok',
    initAdapter: 'adapter',
    resume: 'runs/old/checkpoint-8',
    reinitHead: true,
    data: {
      train: 't.tsv',
      dev: 'd.tsv',
      format: 'tsv',
      textColumn: 's1',
      textPairColumn: 's2',
      labelColumn: 'y',
      labels: ['neg', 'pos'],
      maxLength: 64,
      task: 'classification',
      metric: 'mcc',
    },
    adalora: { initR: 4, targetR: 2 },
    training: {
      batchSize: 8,
      epochs: 1,
      maxSteps: 10,
      lr: 5e-4,
      weightDecay: 0,
      beta1: 0.8,
      beta2: 0.99,
      eps: 1e-6,
      schedule: 'constant',
      warmupSteps: 2,
      seed: 0,
      shuffle: false,
      dropLast: true,
      microBatch: 4,
      evalEvery: 5,
      checkpointEvery: 5,
      saveTotalLimit: 2,
      earlyStoppingPatience: 3,
      earlyStoppingThreshold: 0.01,
    },
    cluster: { host: '0.0.0.0', port: 0, minWorkers: 2, backend: 'wasm', wire: 'float16', stepTimeoutMs: 1000, stepTimeoutFloorMs: 500, heartbeatMs: 250, secretFile: 'secret.txt', tlsCert: 'c.pem', tlsKey: 'k.pem', maxConnections: 8, handshakeTimeoutMs: 2000 },
    outputDir: 'out',
  };
  const { adalora, ...rest } = parseRunConfig(raw);
  const { adalora: rawAdalora, ...rawRest } = raw;
  t.deepEqual(rest, rawRest);
  t.like(adalora, rawAdalora); // and peft's defaults for the rest
});

test('parseRunConfig: regression defaults to pearson', (t) => {
  const c = parseRunConfig({ data: { task: 'regression' } });
  t.is(c.data.metric, 'pearson');
  t.is(parseRunConfig({ data: { task: 'regression', metric: 'spearman' } }).data.metric, 'spearman');
});

test('parseRunConfig: the metric must fit the task', (t) => {
  for (const metric of ['accuracy', 'f1', 'mcc'] as const) {
    t.is(parseRunConfig({ data: { task: 'classification', metric } }).data.metric, metric);
    t.throws(() => parseRunConfig({ data: { task: 'regression', metric } }), { message: `config: 'data.metric' does not fit a regression task, got "${metric}"` });
  }
  for (const metric of ['pearson', 'spearman']) {
    t.throws(() => parseRunConfig({ data: { metric } }), { message: `config: 'data.metric' does not fit a classification task, got "${metric}"` });
  }
});

test('parseRunConfig: data.train is required unless the model is the built-in job', (t) => {
  t.throws(() => parseRunConfig({ model: 'models/bert' }), { message: /'data\.train' is required unless model is builtin:rank-recovery/ });
  t.throws(() => parseRunConfig({ model: 'models/bert', data: { dev: 'd.tsv' } }), { message: /'data\.train' is required/ });
  t.is(parseRunConfig({ model: 'models/bert', data: { train: 'x.tsv' } }).data.train, 'x.tsv');
  t.is(parseRunConfig({ model: BUILTIN_MODEL }).data.train, undefined);
});

// [dotted field, bad value, the rule the error must state]
const BAD: readonly [string, unknown, string][] = [
  ['model', '', 'must be a non-empty string'],
  ['model', 3, 'must be a non-empty string'],
  ['tokenizer', 3, 'must be a non-empty string'],
  ['initAdapter', '', 'must be a non-empty string'],
  ['resume', '', 'must be a non-empty string'],
  ['outputDir', '', 'must be a non-empty string'],
  ['data.train', 5, 'must be a non-empty string'],
  ['data.dev', '', 'must be a non-empty string'],
  ['data.format', 'xml', 'must be one of auto, tsv, csv, jsonl, pretokenized'],
  ['data.textColumn', '', 'must be a non-empty string'],
  ['data.textPairColumn', 5, 'must be a non-empty string'],
  ['data.labelColumn', false, 'must be a non-empty string'],
  ['data.labels', ['a', 1], 'must be a list of strings'],
  ['data.labels', 'a,b', 'must be a list of strings'],
  ['data.maxLength', 1, 'must be >= 2'],
  ['data.maxLength', 64.5, 'must be an integer'],
  ['data.task', 'ranking', 'must be one of classification, regression, qa'],
  ['data.metric', 'auc', 'must be one of accuracy, f1, mcc, pearson, spearman, em'],
  ['training.batchSize', 0, 'must be >= 1'],
  ['training.batchSize', 1.5, 'must be an integer'],
  ['training.epochs', 0, 'must be >= 1'],
  ['training.maxSteps', 0, 'must be >= 1'],
  ['training.maxSteps', 2.5, 'must be an integer'],
  ['training.lr', 0, 'must be > 0'],
  ['training.lr', -1e-3, 'must be > 0'],
  ['training.lr', '1e-3', 'must be a finite number'],
  ['training.weightDecay', -0.1, 'must be >= 0'],
  ['training.beta1', 1, 'must be <= 0.999999'],
  ['training.beta1', -0.1, 'must be >= 0'],
  ['training.beta2', 1, 'must be <= 0.999999'],
  ['training.eps', 0, 'must be > 0'],
  ['training.schedule', 'cosine', 'must be one of constant, linear'],
  ['training.warmupSteps', -1, 'must be >= 0'],
  ['training.seed', -1, 'must be >= 0'],
  ['training.seed', 1.5, 'must be an integer'],
  ['training.shuffle', 'yes', 'must be true or false'],
  ['training.dropLast', 1, 'must be true or false'],
  ['training.microBatch', 0, 'must be >= 1'],
  ['training.evalEvery', -1, 'must be >= 0'],
  ['training.checkpointEvery', 0.5, 'must be an integer'],
  ['training.saveTotalLimit', 0, 'must be >= 1'],
  ['training.saveTotalLimit', 1.5, 'must be an integer'],
  ['training.earlyStoppingPatience', 0, 'must be >= 1'],
  ['training.earlyStoppingThreshold', -0.1, 'must be >= 0'],
  ['reinitHead', 'yes', 'must be true or false'],
  ['cluster.host', '', 'must be a non-empty string'],
  ['cluster.port', 65536, 'must be <= 65535'],
  ['cluster.port', -1, 'must be >= 0'],
  ['cluster.minWorkers', 0, 'must be >= 1'],
  ['cluster.backend', 'gpu', 'must be one of auto, tensorflow, wasm, cpu'],
  ['cluster.wire', 'int8', 'must be one of float64, float32, float16'],
  ['cluster.stepTimeoutMs', 0, 'must be >= 1'],
  ['cluster.stepTimeoutMs', 'soon', "must be 'auto' or an integer >= 1"],
  ['cluster.stepTimeoutFloorMs', 0, 'must be >= 1'],
  ['cluster.heartbeatMs', 5, 'must be >= 10'],
  ['cluster.secretFile', '', 'must be a non-empty string'],
  ['cluster.maxConnections', 0, 'must be >= 1'],
  ['cluster.handshakeTimeoutMs', 10, 'must be >= 100'],
];

test('parseRunConfig: early stopping needs periodic evaluations (patience counts them)', (t) => {
  const e = t.throws(() => parseRunConfig({ training: { earlyStoppingPatience: 2 } }));
  t.true(e.message.startsWith("config: 'training.earlyStoppingPatience' needs 'training.evalEvery' > 0"), e.message);
  t.is(parseRunConfig({ training: { earlyStoppingPatience: 2, evalEvery: 10 } }).training.earlyStoppingPatience, 2);
});

test('parseRunConfig: a TLS certificate without its key is refused naming the missing field', (t) => {
  const e = t.throws(() => parseRunConfig({ cluster: { tlsCert: 'c.pem' } }));
  t.true(e.message.startsWith("config: 'cluster.tlsKey' is required with"), e.message);
});

for (const [field, value, rule] of BAD) {
  test(`parseRunConfig: ${field} = ${JSON.stringify(value)} is refused naming the field`, (t) => {
    const e = t.throws(() => parseRunConfig(withField(field, value)));
    t.true(e.message.startsWith(`config: '${field}' ${rule}, got `), e.message);
  });
}

test('parseRunConfig: sections that are not objects are refused', (t) => {
  t.throws(() => parseRunConfig({ data: 3 }), { message: "config: 'data' must be an object, got 3" });
  t.throws(() => parseRunConfig({ training: [] }), { message: "config: 'training' must be an object, got []" });
  t.throws(() => parseRunConfig({ cluster: 'x' }), { message: `config: 'cluster' must be an object, got "x"` });
  t.throws(() => parseRunConfig({ adalora: 'x' }), { message: `config: 'adalora' must be an object, got "x"` });
  t.throws(() => parseRunConfig({ adalora: [1] }), { message: "config: 'adalora' must be an object, got [1]" });
  t.throws(() => parseRunConfig(5), { message: 'config: the top level must be an object, got 5' });
  t.throws(() => parseRunConfig([]), { message: /config: the top level must be an object/ });
});

test('parseRunConfig: unknown keys are refused at every level, with their dotted path', (t) => {
  t.throws(() => parseRunConfig({ modle: 'x' }), { message: "config: unknown field 'modle'" });
  t.throws(() => parseRunConfig({ data: { trian: 'x' } }), { message: "config: unknown field 'data.trian'" });
  t.throws(() => parseRunConfig({ training: { learningRate: 1 } }), { message: "config: unknown field 'training.learningRate'" });
  t.throws(() => parseRunConfig({ cluster: { hosts: 'a', ports: 1 } }), { message: "config: unknown fields 'cluster.hosts', 'cluster.ports'" });
  // snake_case is only converted inside `adalora`
  t.throws(() => parseRunConfig({ training: { batch_size: 8 } }), { message: "config: unknown field 'training.batch_size'" });
});

test('parseRunConfig: adalora snake_case and camelCase keys both read, values untouched', (t) => {
  const c = parseRunConfig({
    adalora: {
      init_r: 6,
      target_r: 2,
      tinit: 1,
      tfinal: 1,
      deltaT: 2,
      orth_reg_weight: 0.1,
      lora_alpha: 16,
      lora_dropout: 0.05,
      target_modules: ['query', 'value'],
      modules_to_save: ['classifier'],
      beta1: 0.8,
      total_step: 10,
    },
  });
  t.deepEqual(c.adalora, {
    mode: 'adalora',
    initR: 6,
    targetR: 2,
    tinit: 1,
    tfinal: 1,
    deltaT: 2,
    beta1: 0.8,
    beta2: 0.85,
    orthRegWeight: 0.1,
    totalStep: 10,
    loraAlpha: 16,
    loraDropout: 0.05,
    targetModules: ['query', 'value'],
    modulesToSave: ['classifier'],
  });
  // the same config from the core parser, which takes camelCase
  t.deepEqual(runAdaLoraConfig(c.adalora, 999), parseAdaLoraConfig({ ...c.adalora }));
  // camelCase passes through; nested values are not rewritten; delta_t is read as deltaT
  t.like(parseRunConfig({ adalora: { initR: 3, targetR: 3, target_modules: ['a_b'], delta_t: 4 } }).adalora, { initR: 3, targetR: 3, targetModules: ['a_b'], deltaT: 4 });
  t.deepEqual(parseRunConfig({ adalora: null }).adalora, parseRunConfig({}).adalora);
  // null is absent, as elsewhere: the default
  t.is(parseRunConfig({ adalora: { total_step: null, init_r: null } }).adalora.initR, 12);
});

test('parseRunConfig: one adalora field written in both spellings is refused', (t) => {
  t.throws(() => parseRunConfig({ adalora: { init_r: 4, initR: 4 } }), { message: "config: 'adalora.init_r' and 'adalora.initR' are one field: keep one" });
});

// [adalora key as written, bad value, the whole message]: each spelling is named as written
const BAD_ADALORA: readonly [string, unknown, string][] = [
  ['init_r', 0, "config: 'adalora.init_r' must be an integer >= 1, got 0"],
  ['initR', 2.5, "config: 'adalora.initR' must be an integer >= 1, got 2.5"],
  ['target_r', 99, "config: 'adalora.target_r' must be <= 'adalora.init_r' (12), got 99"],
  ['targetR', 99, "config: 'adalora.targetR' must be <= 'adalora.init_r' (12), got 99"],
  ['mode', 'qlora', `config: 'adalora.mode' must be 'adalora' or 'lora', got "qlora"`],
  ['tinit', -1, "config: 'adalora.tinit' must be an integer >= 0, got -1"],
  ['deltaT', 0, "config: 'adalora.deltaT' must be an integer >= 1, got 0"],
  ['delta_t', 0, "config: 'adalora.delta_t' must be an integer >= 1, got 0"],
  ['beta1', 1, "config: 'adalora.beta1' must be in [0, 1), got 1"],
  ['orth_reg_weight', -1, "config: 'adalora.orth_reg_weight' must be >= 0, got -1"],
  ['orthRegWeight', 'x', `config: 'adalora.orthRegWeight' must be a finite number, got "x"`],
  ['lora_alpha', 0, "config: 'adalora.lora_alpha' must be > 0, got 0"],
  ['loraDropout', 1, "config: 'adalora.loraDropout' must be in [0, 1), got 1"],
  ['total_step', 0, "config: 'adalora.total_step' must be an integer >= 1, got 0"],
  ['totalStep', 1.5, "config: 'adalora.totalStep' must be an integer >= 1, got 1.5"],
  ['target_modules', [], "config: 'adalora.target_modules' must name at least one module (e.g. query, value), got []"],
  ['targetModules', 'query', `config: 'adalora.targetModules' must be an array of non-empty strings, got "query"`],
  ['modules_to_save', [''], `config: 'adalora.modules_to_save' must be an array of non-empty strings, got [""]`],
];

for (const [key, value, message] of BAD_ADALORA) {
  test(`parseRunConfig: adalora.${key} = ${JSON.stringify(value)} is refused naming it as written`, (t) => {
    t.throws(() => parseRunConfig({ adalora: { [key]: value } }), { message });
  });
}

test('parseRunConfig: adalora cross-field rules name every field as written, defaults by their peft name', (t) => {
  t.throws(() => parseRunConfig({ adalora: { initR: 4 } }), { message: "config: 'adalora.target_r' must be <= 'adalora.initR' (4), got 8 (the default)" });
  t.throws(() => parseRunConfig({ adalora: { init_r: 4, targetR: 5 } }), { message: "config: 'adalora.targetR' must be <= 'adalora.init_r' (4), got 5" });
  t.throws(() => parseRunConfig({ adalora: { totalStep: 10, tinit: 6, tfinal: 4 } }), {
    message: "config: 'adalora.tinit' must be < 'adalora.totalStep' - 'adalora.tfinal' (10 - 4 = 6) so the budget has steps to fall, got 6",
  });
  t.throws(() => parseRunConfig({ adalora: { unknown_key: 1, tinit: 0 } }), { message: "config: unknown field 'adalora.unknown_key'" });
  // lora mode: the rank never changes, so target_r defaults to init_r
  t.is(parseRunConfig({ adalora: { mode: 'lora', init_r: 4 } }).adalora.targetR, 4);
});

test('parseRunConfig: tinit < total_step - tfinal is checked up front whenever the run steps are known without the data', (t) => {
  const data = { train: 't.tsv' };
  const late = { model: 'models/bert', data, adalora: { tinit: 90, tfinal: 10 } };
  // total_step left to its default: the run's steps depend on the data size...
  const draft = parseRunConfig(late).adalora;
  t.is(draft.totalStep, undefined);
  // ...and are checked, in the same words, once the data is counted
  const message = "config: 'adalora.tinit' must be < the run's optimizer steps - 'adalora.tfinal' (100 - 10 = 90) so the budget has steps to fall, got 90";
  t.throws(() => runAdaLoraConfig(draft, 100), { message });
  t.is(runAdaLoraConfig(draft, 101).totalStep, 101);
  // training.maxSteps fixes the run's steps: checked up front
  t.throws(() => parseRunConfig({ ...late, training: { maxSteps: 100 } }), { message });
  t.notThrows(() => parseRunConfig({ ...late, training: { maxSteps: 101 } }));
  // so does a given total_step (which wins over the run's steps)
  t.throws(() => parseRunConfig({ ...late, adalora: { ...late.adalora, total_step: 100 } }), { message: /'adalora\.tinit' must be < 'adalora\.total_step' - 'adalora\.tfinal' \(100 - 10 = 90\)/ });
  t.is(runAdaLoraConfig(parseRunConfig({ ...late, adalora: { ...late.adalora, total_step: 101 } }).adalora, 5).totalStep, 101);
  // the built-in job's train split has a known size: 4096 rows, 32 a batch, 3 epochs = 384 steps
  t.throws(() => parseRunConfig({ adalora: { tinit: 300, tfinal: 84 } }), { message: /must be < the run's optimizer steps - 'adalora\.tfinal' \(384 - 84 = 300\)/ });
  t.notThrows(() => parseRunConfig({ adalora: { tinit: 299, tfinal: 84 } }));
  t.throws(() => parseRunConfig({ adalora: { tinit: 300 }, training: { dropLast: true, batchSize: 4096, epochs: 300 } }), { message: /\(300 - 0 = 300\)/ });
  t.throws(() => parseRunConfig({ training: { dropLast: true, batchSize: 4097 } }), {
    message: "config: 'training.batchSize' must be <= the 4096 train examples when 'training.dropLast' is true, got 4097",
  });
});

test('parseRunConfig: the built-in job with its defaults passes, checked on its 768 steps', (t) => {
  const c = parseRunConfig(RANK_RECOVERY_DEFAULTS);
  t.like(runAdaLoraConfig(c.adalora, 768), { initR: 6, targetR: 1, tinit: 128, tfinal: 256, totalStep: 768 });
  t.throws(() => parseRunConfig(mergeConfig(RANK_RECOVERY_DEFAULTS, { adalora: { tinit: 512 } })), { message: /\(768 - 256 = 512\)/ });
});

test('applyOverrides: values parsed as YAML scalars and lists', (t) => {
  const out = applyOverrides({}, [
    'training.lr=1e-4',
    'training.batchSize=8',
    'training.shuffle=false',
    'data.train=data/train.tsv',
    'data.labels=[neg, pos]',
    'model="123"',
    'outputDir=runs/a b',
    'cluster.port=-1',
    'data.dev=',
    'x=a=b',
  ]);
  t.deepEqual(out, {
    training: { lr: 1e-4, batchSize: 8, shuffle: false },
    data: { train: 'data/train.tsv', labels: ['neg', 'pos'], dev: null },
    model: '123',
    outputDir: 'runs/a b',
    cluster: { port: -1 },
    x: 'a=b', // only the first '=' splits
  });
});

test('applyOverrides: merges into existing sections, later overrides win, the input is not mutated', (t) => {
  const raw = { training: { lr: 1, epochs: 2 }, data: { labels: ['a'] } };
  const before = structuredClone(raw);
  const out = applyOverrides(raw, ['training.lr=0.5', 'training.lr=0.25', 'a.b.c.d=1', 'data.labels=[x, y]']);
  t.deepEqual(out, { training: { lr: 0.25, epochs: 2 }, data: { labels: ['x', 'y'] }, a: { b: { c: { d: 1 } } } });
  t.deepEqual(raw, before);
  t.not(out.training, raw.training);
  // a scalar in the way of a path is replaced by an object
  t.deepEqual(applyOverrides({ training: 5 }, ['training.lr=1']), { training: { lr: 1 } });
  t.deepEqual(applyOverrides(undefined, ['a=1']), { a: 1 });
  t.deepEqual(applyOverrides({ a: 1 }, []), { a: 1 });
  // the result goes through the parser like any config
  t.is(parseRunConfig(applyOverrides({}, ['training.lr=2e-5'])).training.lr, 2e-5);
});

test('applyOverrides: malformed overrides are refused naming the override', (t) => {
  t.throws(() => applyOverrides({}, ['training.lr']), { message: "override 'training.lr' must look like key.path=value" });
  t.throws(() => applyOverrides({}, ['=1']), { message: "override '=1' must look like key.path=value" });
  t.throws(() => applyOverrides({}, ['training..lr=1']), { message: /^override 'training\.\.lr=1': every part of the key path must be a non-empty field name/ });
  t.throws(() => applyOverrides({}, ['training.=1']), { message: /^override 'training\.=1': every part/ });
  t.throws(() => applyOverrides({}, ['data.labels=[a, b']), { message: /^override 'data\.labels=\[a, b': the value is not valid YAML \(/ });
  t.throws(() => applyOverrides({}, ['model="abc']), { message: /^override 'model="abc': the value is not valid YAML/ });
  t.throws(() => applyOverrides([1], ['a=1']), { message: /overrides: the config must be a mapping of fields, got a list/ });
});

test('applyOverrides: __proto__ cannot pollute Object.prototype', (t) => {
  t.throws(() => applyOverrides({}, ['__proto__.polluted=1']), { message: /every part of the key path/ });
  t.throws(() => applyOverrides({}, ['a.__proto__.polluted=1']), { message: /every part of the key path/ });
  t.is(({} as Record<string, unknown>).polluted, undefined);
});

test('mergeConfig: objects merged key by key, arrays and scalars replaced', (t) => {
  const base = { model: 'a', training: { lr: 1, epochs: 2 }, data: { labels: ['x', 'y'] }, keep: { deep: { v: 1 } } };
  const before = structuredClone(base);
  const out = mergeConfig(base, { training: { lr: 3 }, data: { labels: ['z'] }, model: 'b', extra: null });
  t.deepEqual(out, { model: 'b', training: { lr: 3, epochs: 2 }, data: { labels: ['z'] }, keep: { deep: { v: 1 } }, extra: null });
  t.deepEqual(base, before);
  t.deepEqual(mergeConfig(base, undefined), base);
  t.deepEqual(mergeConfig({ a: { b: 1 } }, { a: undefined }), { a: { b: 1 } }); // undefined does not erase
  t.deepEqual(mergeConfig({ a: { b: 1 } }, { a: null }), { a: null }); // null does
  t.deepEqual(mergeConfig({ a: [1, 2] }, { a: { b: 1 } }), { a: { b: 1 } });
  t.deepEqual(mergeConfig({ a: { b: 1 } }, { a: [1] }), { a: [1] });
  t.is(mergeConfig(1, 2), 2);
  t.deepEqual(mergeConfig(undefined, { a: 1 }), { a: 1 });
});

test('readConfigFile: JSON and YAML by extension; errors name the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-config-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const expected = { model: 'm', training: { lr: 0.001, shuffle: false }, data: { labels: ['a', 'b'] } };
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  t.deepEqual(readConfigFile(file('c.json', JSON.stringify(expected))), expected);
  const yaml = 'model: m\n# a comment\ntraining:\n  lr: 1e-3\n  shuffle: false\ndata:\n  labels: [a, b]\n';
  t.deepEqual(readConfigFile(file('c.yaml', yaml)), expected);
  t.deepEqual(readConfigFile(file('c.yml', yaml)), expected);
  // YAML is tried for other extensions (a JSON document is YAML too)
  t.deepEqual(readConfigFile(file('c.conf', JSON.stringify(expected))), expected);
  // empty / comment-only YAML: no settings
  t.deepEqual(readConfigFile(file('empty.yaml', '')), {});
  t.deepEqual(readConfigFile(file('comments.yaml', '# nothing here\n')), {});

  const missing = join(dir, 'missing.yaml');
  t.throws(() => readConfigFile(missing), { message: `config file ${missing}: cannot read (ENOENT)` });
  t.throws(() => readConfigFile(dir), { message: `config file ${dir}: cannot read (EISDIR)` });
  const badJson = file('bad.json', '{"model": "m",}');
  t.throws(() => readConfigFile(badJson), { message: new RegExp(`^config file ${escape(badJson)}: not valid JSON \\(`) });
  // JSON rules are strict for .json even though YAML would accept this
  t.throws(() => readConfigFile(file('single.json', "{'model': 'm'}")), { message: /single\.json: not valid JSON/ });
  const badYaml = file('bad.yaml', 'model: m\n  training: [1,\n');
  t.throws(() => readConfigFile(badYaml), { message: new RegExp(`^config file ${escape(badYaml)}: not valid YAML \\(`) });
  t.throws(() => readConfigFile(file('dup.yaml', 'a: 1\na: 2\n')), { message: /dup\.yaml: not valid YAML/ });
  t.throws(() => readConfigFile(file('list.yaml', '- a\n- b\n')), { message: /list\.yaml: expected a mapping of fields at the top level, got a list/ });
  t.throws(() => readConfigFile(file('scalar.json', '42')), { message: /scalar\.json: expected a mapping of fields at the top level, got number/ });
  if (process.getuid?.() !== 0) {
    const locked = file('locked.yaml', 'a: 1');
    chmodSync(locked, 0o000);
    t.throws(() => readConfigFile(locked), { message: `config file ${locked}: cannot read (EACCES)` });
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test("parseRunConfig: data.task 'qa' fills run_qa.py's defaults, metric f1, the QA head saved", (t) => {
  const c = parseRunConfig({ model: 'm', data: { task: 'qa', train: 'train.json' } });
  t.is(c.data.maxLength, 384);
  t.is(c.data.metric, 'f1');
  t.deepEqual(c.data.qa, { squadVersion: 'auto', docStride: 128, nBest: 20, maxAnswerLength: 30, nullScoreThreshold: 0 });
  t.deepEqual(c.adalora.modulesToSave, ['qa_outputs']);
  // a short window: the stride defaults to a third of it, so each window still moves on
  t.is(parseRunConfig({ model: 'm', data: { task: 'qa', train: 't.json', maxLength: 48 } }).data.qa?.docStride, 16);
  const given = parseRunConfig({ model: 'm', data: { task: 'qa', train: 't.jsonl', squadVersion: '2.0', maxLength: 64, docStride: 24, nBest: 5, maxAnswerLength: 8, nullScoreThreshold: -1.5, metric: 'em' } });
  t.deepEqual(given.data.qa, { squadVersion: '2.0', docStride: 24, nBest: 5, maxAnswerLength: 8, nullScoreThreshold: -1.5 });
  t.is(given.data.metric, 'em');
  // classification keeps its head and has no qa settings
  t.is(parseRunConfig({}).data.qa, undefined);
});

// [data fields (with task qa unless given), the field named, the rule]
const BAD_QA: readonly [Record<string, unknown>, string][] = [
  [{ squadVersion: '3.0' }, `config: 'data.squadVersion' must be one of auto, 1.1, 2.0, got "3.0"`],
  [{ docStride: -1 }, "config: 'data.docStride' must be >= 0, got -1"],
  [{ maxLength: 64, docStride: 61 }, "config: 'data.docStride' must be < 'data.maxLength' - 3 (61), so each window moves on, got 61"],
  [{ nBest: 0 }, "config: 'data.nBest' must be >= 1, got 0"],
  [{ maxAnswerLength: 2.5 }, "config: 'data.maxAnswerLength' must be an integer, got 2.5"],
  [{ nullScoreThreshold: 'high' }, `config: 'data.nullScoreThreshold' must be a finite number, got "high"`],
  [{ squadVersion: '1.1', nullScoreThreshold: 1 }, "config: 'data.nullScoreThreshold' only applies to SQuAD v2.0 (data.squadVersion '2.0' or 'auto'), got 1"],
  [{ metric: 'accuracy' }, `config: 'data.metric' does not fit a qa task, got "accuracy"`],
  [{ format: 'tsv' }, `config: 'data.format' must be auto (.json: SQuAD JSON, .jsonl: HF datasets' rows) or jsonl for data.task 'qa', got "tsv"`],
  [{ task: 'classification', docStride: 64 }, "config: 'data.docStride' only applies to data.task 'qa', got 64"],
  [{ task: 'regression', nBest: 5 }, "config: 'data.nBest' only applies to data.task 'qa', got 5"],
  [{ task: 'classification', metric: 'em' }, `config: 'data.metric' does not fit a classification task, got "em"`],
];

for (const [fields, message] of BAD_QA) {
  test(`parseRunConfig: QA data ${JSON.stringify(fields)} is refused naming the field`, (t) => {
    t.throws(() => parseRunConfig({ model: 'm', data: { task: 'qa', train: 't.json', ...fields } }), { message });
  });
}

test("parseRunConfig: a QA run must save qa_outputs with the adapter", (t) => {
  t.throws(() => parseRunConfig({ model: 'm', data: { task: 'qa', train: 't.json' }, adalora: { modules_to_save: ['classifier'] } }), {
    message: `config: 'adalora.modules_to_save' must include 'qa_outputs' for data.task 'qa' (the QA head trains and is saved with the adapter), got ["classifier"]`,
  });
  t.deepEqual(parseRunConfig({ model: 'm', data: { task: 'qa', train: 't.json' }, adalora: { modules_to_save: ['qa_outputs', 'extra'] } }).adalora.modulesToSave, ['qa_outputs', 'extra']);
});
