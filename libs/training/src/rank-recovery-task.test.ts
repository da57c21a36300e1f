import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseAdaLoraConfig, parseRunConfig, RANK_RECOVERY_DEFAULTS } from '@adalora/config';
import { loadEncoder, readSafetensors } from '@adalora/models';
import { createRankRecoveryTask } from './rank-recovery-task';

const SMALL = { train: 96, dev: 32 };
const FILES = ['base-model/config.json', 'base-model/model.safetensors', 'train.jsonl', 'dev.jsonl', 'true-ranks.json'];

function rows(file: string): { input_ids: number[]; label: number }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

test('same seed, same files; another seed, other data', async (t) => {
  const dirs = [1, 2, 3].map(() => mkdtempSync(join(tmpdir(), 'rank-recovery-')));
  try {
    await createRankRecoveryTask(dirs[0], 7, SMALL);
    await createRankRecoveryTask(dirs[1], 7, SMALL);
    await createRankRecoveryTask(dirs[2], 8, SMALL);
    for (const f of FILES) t.deepEqual(readFileSync(join(dirs[1], f)), readFileSync(join(dirs[0], f)), f);
    t.notDeepEqual(readFileSync(join(dirs[2], 'train.jsonl')), readFileSync(join(dirs[0], 'train.jsonl')));
    t.notDeepEqual(readFileSync(join(dirs[2], 'base-model/model.safetensors')), readFileSync(join(dirs[0], 'base-model/model.safetensors')));
  } finally {
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  }
});

// Recorded before the built-in task moved onto @adalora/core's PRNG: the same seed draws the same
// sequences and base weights, so the task (and the ranks it recovers) is unchanged.
test('recorded: seed 7 draws the same sequences and base weights as before', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rank-recovery-'));
  try {
    const task = await createRankRecoveryTask(dir, 7, SMALL);
    t.deepEqual(rows(task.trainFile).slice(0, 2).map((r) => r.input_ids), [
      [10, 40, 19, 44, 37, 29, 52, 16],
      [32, 4, 33, 5, 36, 14, 11, 61],
    ]);
    const w = readSafetensors(join(task.modelDir, 'model.safetensors'));
    t.deepEqual(Array.from(w.get('bert.embeddings.word_embeddings.weight')!.data.slice(0, 4)), [2.7593729496002197, -0.06805135309696198, -0.9459489583969116, 0.07814913243055344]);
    t.deepEqual(Array.from(w.get('bert.encoder.layer.1.output.dense.weight')!.data.slice(0, 3)), [-0.10238940268754959, -0.08880632370710373, 0.04527398198843002]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the base checkpoint misses every target by the teacher change, scaled to RMS 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rank-recovery-'));
  try {
    const task = await createRankRecoveryTask(dir, 3, SMALL);
    const data = [...rows(task.trainFile), ...rows(task.devFile)];
    t.is(data.length, SMALL.train + SMALL.dev);
    // read back from the files, independently of the generator: a 1-output regression head
    const { model, config } = await loadEncoder(task.modelDir);
    try {
      t.is(model.numLabels, 1);
      t.is(config.string('problem_type'), 'regression');
      const seq = data[0].input_ids.length;
      const ids = tf.tensor2d(
        data.flatMap((r) => r.input_ids),
        [data.length, seq],
        'int32',
      );
      const y = tf.tidy(() => model.forward({ inputIds: ids, attentionMask: tf.onesLike(ids) }, false).logits.dataSync());
      ids.dispose();
      const mse = data.reduce((s, r, i) => s + (y[i] - r.label) ** 2, 0) / data.length;
      t.true(Math.abs(mse - 1) < 1e-3, `base vs target MSE ${mse}`);
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the true ranks cover the 12 adapted matrices and fill the default budget', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rank-recovery-'));
  try {
    const { trueRanks } = await createRankRecoveryTask(dir, 3, SMALL);
    t.deepEqual(JSON.parse(readFileSync(join(dir, 'true-ranks.json'), 'utf8')), Object.fromEntries(trueRanks));
    const config = parseRunConfig(RANK_RECOVERY_DEFAULTS);
    const steps = config.training.epochs * Math.ceil(4096 / config.training.batchSize);
    const adalora = parseAdaLoraConfig({ ...config.adalora, totalStep: steps }); // throws on a bad schedule
    t.is(trueRanks.size, 12);
    const ranks = [...trueRanks.values()];
    t.is(
      ranks.reduce((a, b) => a + b, 0),
      adalora.targetR * trueRanks.size,
    );
    t.true(ranks.every((r) => Number.isInteger(r) && r >= 0 && r <= adalora.initR));
    t.true(ranks.some((r) => r === 0) && ranks.some((r) => r > 0));
    for (const id of trueRanks.keys()) t.true(adalora.targetModules.some((m) => id.endsWith(`.${m}`)), id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
