import test from 'ava';
import { AdaLoraConfigError, parseAdaLoraConfig } from './adalora-config';
import { parseWorkerJob, workerJobToJson, type WorkerJob } from './worker-job';

const adalora = { initR: 4, targetR: 2, tinit: 1, tfinal: 1, deltaT: 2, totalStep: 20, targetModules: ['query', 'value'], modulesToSave: ['classifier'] };
const valid = { adalora, microBatch: 8, numLabels: 3, headSeed: 42, wire: 'float16' };

test('parseWorkerJob: a valid job, adalora filled by the core parser', (t) => {
  const job = parseWorkerJob(valid);
  t.deepEqual(job.adalora, parseAdaLoraConfig(adalora));
  t.like(job, { microBatch: 8, numLabels: 3, headSeed: 42, wire: 'float16' });
  t.is(job.adalora.beta1, 0.85); // a peft default, filled by parseAdaLoraConfig
});

test('parseWorkerJob: wire defaults to float64; headSeed 0 is allowed', (t) => {
  const { wire: _, ...noWire } = valid;
  t.is(parseWorkerJob(noWire).wire, 'float64');
  t.is(parseWorkerJob({ ...valid, headSeed: 0 }).headSeed, 0);
  t.false(parseWorkerJob(valid).reinitHead); // a coordinator that does not send it keeps the checkpoint's head
  t.true(parseWorkerJob({ ...valid, reinitHead: true }).reinitHead);
  for (const wire of ['float64', 'float32', 'float16'] as const) t.is(parseWorkerJob({ ...valid, wire }).wire, wire);
});

test("parseWorkerJob: head defaults to classification (a job from before QA), 'qa' loads a QA model", (t) => {
  t.is(parseWorkerJob(valid).head, 'classification');
  t.is(parseWorkerJob({ ...valid, head: 'qa', numLabels: 2 }).head, 'qa');
  const job = parseWorkerJob({ ...valid, head: 'qa', numLabels: 2 });
  t.deepEqual(parseWorkerJob(JSON.parse(JSON.stringify(workerJobToJson(job)))), job);
});

test('workerJobToJson round-trips through JSON and parseWorkerJob', (t) => {
  for (const wire of ['float64', 'float32', 'float16'] as const) {
    const job: WorkerJob = parseWorkerJob({ ...valid, wire, adalora: { ...adalora, mode: 'lora', targetR: 4 } });
    const json = workerJobToJson(job);
    const back = parseWorkerJob(JSON.parse(JSON.stringify(json)));
    t.deepEqual(back, job);
    t.deepEqual(parseWorkerJob(json), job); // also without the JSON hop
  }
});

test('workerJobToJson: plain, mutable copies of the frozen lists', (t) => {
  const job = parseWorkerJob(valid);
  const json = workerJobToJson(job) as { adalora: { targetModules: string[]; modulesToSave: string[] } };
  t.not(json.adalora.targetModules, job.adalora.targetModules);
  t.false(Object.isFrozen(json.adalora.targetModules));
  json.adalora.targetModules.push('key');
  json.adalora.modulesToSave.length = 0;
  t.deepEqual(job.adalora.targetModules, ['query', 'value']);
  t.deepEqual(job.adalora.modulesToSave, ['classifier']);
});

// [field, bad value (undefined = absent), expected message]
const BAD: readonly [string, unknown, string][] = [
  ['microBatch', undefined, "config: 'job.microBatch' is required, got undefined"],
  ['microBatch', 0, "config: 'job.microBatch' must be >= 1, got 0"],
  ['microBatch', 2.5, "config: 'job.microBatch' must be an integer, got 2.5"],
  ['microBatch', '8', `config: 'job.microBatch' must be a finite number, got "8"`],
  ['numLabels', undefined, "config: 'job.numLabels' is required, got undefined"],
  ['numLabels', 0, "config: 'job.numLabels' must be >= 1, got 0"],
  ['headSeed', undefined, "config: 'job.headSeed' is required, got undefined"],
  ['headSeed', -1, "config: 'job.headSeed' must be >= 0, got -1"],
  ['headSeed', 0.5, "config: 'job.headSeed' must be an integer, got 0.5"],
  ['head', 'ner', `config: 'job.head' must be one of classification, qa, got "ner"`],
  ['reinitHead', 'yes', `config: 'job.reinitHead' must be true or false, got "yes"`],
  ['wire', 'int8', `config: 'job.wire' must be one of float64, float32, float16, got "int8"`],
];

for (const [field, value, message] of BAD) {
  test(`parseWorkerJob: ${field} = ${JSON.stringify(value) ?? 'absent'} is refused naming it`, (t) => {
    const raw: Record<string, unknown> = { ...valid, [field]: value };
    if (value === undefined) delete raw[field];
    t.throws(() => parseWorkerJob(raw), { message });
  });
}

test('parseWorkerJob: unknown fields and non-objects are refused', (t) => {
  t.throws(() => parseWorkerJob({ ...valid, lr: 1 }), { message: "config: unknown field 'job.lr'" });
  t.throws(() => parseWorkerJob('job'), { message: `config: 'job' must be an object, got "job"` });
  t.throws(() => parseWorkerJob([valid]), { message: /config: 'job' must be an object/ });
});

test('parseWorkerJob: a bad adalora part fails in parseAdaLoraConfig with the field named', (t) => {
  const bad = (a: unknown) => t.throws(() => parseWorkerJob({ ...valid, adalora: a }), { instanceOf: AdaLoraConfigError }) as AdaLoraConfigError;
  t.is(bad({ ...adalora, targetR: 8 }).field, 'targetR');
  t.is(bad({ ...adalora, totalStep: undefined }).field, 'totalStep');
  t.is(bad({ ...adalora, target_modules: ['q'] }).field, 'target_modules'); // the wire form is camelCase
  t.is(bad(undefined).field, '(root)');
  t.is(bad('x').field, '(root)');
});
