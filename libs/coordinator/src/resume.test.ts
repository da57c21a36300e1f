import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdaLoraConfig } from '@adalora/config';
import { injectAdapters, loadEncoder } from '@adalora/models';
import { ClusterOptimizer } from '@adalora/training';
import { fixturePath } from '@adalora/test-support';
import { writeManifest } from './checkpoint-manifest';
import { resumeFromCheckpoint, type ResumeTarget } from './resume';
import { readStateFiles, writeStateFiles } from './trainer-state-file';

const dirs: string[] = [];
test.after.always(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function target(): Promise<ResumeTarget & { dispose(): void }> {
  const { model } = await loadEncoder(fixturePath('bert'));
  const adalora = parseAdaLoraConfig({ initR: 2, targetR: 1, totalStep: 10, targetModules: ['query'] });
  const injected = injectAdapters(model, adalora, 3);
  const optimizer = new ClusterOptimizer(injected, adalora, { weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, schedule: { lr: 1e-3, kind: 'constant', warmupSteps: 0, totalSteps: 10 } });
  return { optimizer, injected, adalora, modelHash: 'model', dataHash: 'data', dispose: () => (injected.dispose(), model.dispose()) };
}

type SavedOptimizer = ReturnType<ClusterOptimizer['exportState']>;

// a checkpoint folder (with its manifest) holding the target's state with its trainables, and optionally its global state, edited
function checkpoint(t: ResumeTarget, edit: (trainables: Record<string, Float32Array>) => void, editOptimizer?: (optimizer: SavedOptimizer) => SavedOptimizer): string {
  const dir = mkdtempSync(join(tmpdir(), 'resume-test-'));
  dirs.push(dir);
  const trainables = Object.fromEntries(t.optimizer.snapshot()) as Record<string, Float32Array>;
  edit(trainables);
  const optimizer = t.optimizer.exportState();
  writeStateFiles(join(dir, 'trainer_state.json'), join(dir, 'trainer_state.safetensors'), {
    modelHash: t.modelHash,
    dataHash: t.dataHash,
    adalora: t.adalora,
    optimizer: editOptimizer ? editOptimizer(optimizer) : optimizer,
    trainables,
  });
  writeManifest(dir);
  return dir;
}

test('a checkpoint resumes only when its trainables are exactly this run’s, each with its size', async (t) => {
  const run = await target();
  const keys = [...run.injected.trainables.keys()];
  t.is(resumeFromCheckpoint(checkpoint(run, () => {}), run), 0);

  const lacking = checkpoint(run, (tr) => delete tr['classifier.bias']);
  t.throws(() => resumeFromCheckpoint(lacking, run), { message: `cannot resume from ${lacking}: trainer_state: missing tensor 'classifier.bias' (${keys.length - 1} of ${keys.length} present)` });

  const extra = checkpoint(run, (tr) => (tr['bert.pooler.dense.lora_A'] = new Float32Array(4)));
  t.throws(() => resumeFromCheckpoint(extra, run), { message: `cannot resume from ${extra}: trainer_state: unknown tensor 'bert.pooler.dense.lora_A'` });

  const resized = checkpoint(run, (tr) => (tr[keys[0]] = new Float32Array(3)));
  const shape = run.injected.trainables.get(keys[0])!.shape;
  t.throws(() => resumeFromCheckpoint(resized, run), {
    message: `cannot resume from ${resized}: trainer_state: tensor '${keys[0]}' has 3 values, expected ${shape.reduce((a, b) => a * b, 1)} (shape [${shape.join(',')}])`,
  });
  run.dispose();
});

test('a NaN in the saved optimizer state is refused before anything is restored, naming the field', async (t) => {
  const run = await target();
  const [key, v] = [...run.injected.trainables][0];
  const before = Float32Array.from(v.dataSync());
  const moments = (fill: number) => new Float32Array(v.size).fill(fill);
  const expAvgSq = moments(0.5);
  expAvgSq[3] = NaN;
  const dir = checkpoint(run, () => {}, (g) => ({ ...g, step: 1, adamw: { params: { [key]: { step: 1, expAvg: moments(0.1), expAvgSq } } } }));
  t.throws(() => resumeFromCheckpoint(dir, run), {
    message: `cannot resume from ${dir}: trainer_state: 'optimizer.adamw.params.${key}.expAvgSq' holds NaN at index 3; a step with it would fail or spread it into the adapter`,
  });
  t.is(run.optimizer.step, 0, 'nothing restored');
  t.deepEqual(Float32Array.from(v.dataSync()), before);
  expAvgSq[3] = 0.5;
  t.is(resumeFromCheckpoint(checkpoint(run, () => {}, (g) => ({ ...g, step: 1, adamw: { params: { [key]: { step: 1, expAvg: moments(0.1), expAvgSq } } } })), run), 1, 'the same state without the NaN resumes');
  run.dispose();
});

test('a trainer_state.json that is not JSON is named in the error (after the manifest, which catches a later change first)', async (t) => {
  const run = await target();
  const dir = checkpoint(run, () => {});
  const json = join(dir, 'trainer_state.json');
  writeFileSync(json, '{"modelHash": "model", ');
  const changed = t.throws(() => resumeFromCheckpoint(dir, run));
  t.regex(changed!.message, /: trainer_state\.json: 23 bytes, the manifest says \d+ \(truncated\)$/);
  t.true(changed!.message.startsWith(`cannot resume from ${dir}: `));
  writeManifest(dir); // written broken: the manifest agrees, the reader must say which file
  const broken = t.throws(() => resumeFromCheckpoint(dir, run));
  t.true(broken!.message.startsWith(`cannot resume from ${dir}: trainer state ${json}: not valid JSON (`), broken!.message);
  t.throws(() => readStateFiles(json, join(dir, 'trainer_state.safetensors')), { message: /^trainer state .*trainer_state\.json: not valid JSON \(/ });
  run.dispose();
});
