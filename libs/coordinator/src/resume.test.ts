import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdaLoraConfig } from '@adalora/config';
import { injectAdapters, loadEncoder } from '@adalora/models';
import { ClusterOptimizer } from '@adalora/training';
import { fixturePath } from '@adalora/test-support';
import { resumeFromCheckpoint, type ResumeTarget } from './resume';
import { writeStateFiles } from './trainer-state-file';

const dirs: string[] = [];
test.after.always(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function target(): Promise<ResumeTarget & { dispose(): void }> {
  const { model } = await loadEncoder(fixturePath('bert'));
  const adalora = parseAdaLoraConfig({ initR: 2, targetR: 1, totalStep: 10, targetModules: ['query'] });
  const injected = injectAdapters(model, adalora, 3);
  const optimizer = new ClusterOptimizer(injected, adalora, { weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, schedule: { lr: 1e-3, kind: 'constant', warmupSteps: 0, totalSteps: 10 } });
  return { optimizer, injected, adalora, modelHash: 'model', dataHash: 'data', dispose: () => (injected.dispose(), model.dispose()) };
}

// a checkpoint folder holding the target's state with its trainables edited
function checkpoint(t: ResumeTarget, edit: (trainables: Record<string, Float32Array>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'resume-test-'));
  dirs.push(dir);
  const trainables = Object.fromEntries(t.optimizer.snapshot()) as Record<string, Float32Array>;
  edit(trainables);
  writeStateFiles(join(dir, 'trainer_state.json'), join(dir, 'trainer_state.safetensors'), {
    modelHash: t.modelHash,
    dataHash: t.dataHash,
    adalora: t.adalora,
    optimizer: t.optimizer.exportState(),
    trainables,
  });
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
