import test from 'ava';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, startCli } from '@adalora/test-support';

// `adalora merge` and `adalora predict` (issue 10). The base model's identity is its SHA-256
// over config.json and the weights, as the run computed it (loadEncoder), recorded by every
// checkpoint in <adapter>/adalora_base.json with the head's label names.

const SHORT = ['--set', 'training.maxSteps=16', '--set', 'training.evalEvery=0', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];

const tmpDirs: string[] = [];
test.after.always(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'adalora-mp-'));
  tmpDirs.push(d);
  return d;
}

/** A copy of a checkpoint folder with one harmless key added to config.json: same shapes, another base (hash). */
function anotherBaseOfSameShape(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  const config = JSON.parse(readFileSync(join(to, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(to, 'config.json'), JSON.stringify({ ...config, _note: 'another base' }, null, 2));
  return to;
}

/** The base's identity as loadEncoder computes it: SHA-256 over config.json, then model.safetensors. */
function baseHash(dir: string): string {
  return createHash('sha256').update(readFileSync(join(dir, 'config.json'))).update(readFileSync(join(dir, 'model.safetensors'))).digest('hex');
}

test('merge writes the label names as id2label/label2id, copies the tokenizer files, refuses a non-empty output folder unless --overwrite and an adapter of another base', async (t) => {
  const dir = tmp();
  // the bert fixture as a base that carries tokenizer files, WordPiece and SentencePiece
  const base = join(dir, 'base');
  cpSync(fixturePath('bert'), base, { recursive: true });
  rmSync(join(base, 'adalora-adapter'), { recursive: true });
  cpSync(fixturePath('tokenizer', 'tokenizer.json'), join(base, 'tokenizer.json'));
  writeFileSync(join(base, 'spm.model'), 'sentencepiece model bytes');
  // its adapter, recorded as trained on this base with three named classes
  const adapter = join(dir, 'adapter');
  cpSync(fixturePath('bert', 'adalora-adapter'), adapter, { recursive: true });
  writeFileSync(join(adapter, 'adalora_base.json'), JSON.stringify({ base_model_sha256: baseHash(base), num_labels: 3, id2label: { 0: 'neg', 1: 'neutral', 2: 'pos' } }));

  const out = join(dir, 'merged');
  const r = await startCli(['merge', '-m', base, '-a', adapter, '-o', out, '-b', 'wasm']).done;
  t.is(r.code, 0, r.out);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { id2label: Record<string, string>; label2id: Record<string, number> };
  t.deepEqual(config.id2label, { 0: 'neg', 1: 'neutral', 2: 'pos' });
  t.deepEqual(config.label2id, { neg: 0, neutral: 1, pos: 2 });
  for (const f of ['tokenizer.json', 'spm.model']) t.deepEqual(readFileSync(join(out, f)), readFileSync(join(base, f)), `${f} copied`);

  // an existing, non-empty output folder
  const again = await startCli(['merge', '-m', base, '-a', adapter, '-o', out, '-b', 'wasm']).done;
  t.is(again.code, 1, again.out);
  t.regex(again.out, /merged already exists and is not empty: .*--overwrite/);
  t.notRegex(again.out, /backend:/, 'refused before the backend loads');
  const overwritten = await startCli(['merge', '-m', base, '-a', adapter, '-o', out, '--overwrite', '-b', 'wasm']).done;
  t.is(overwritten.code, 0, overwritten.out);

  // the same adapter on another base of the same shape: refused by merge and by predict
  const other = anotherBaseOfSameShape(base, join(dir, 'other-base'));
  const wrong = await startCli(['merge', '-m', other, '-a', adapter, '-o', join(dir, 'wrong'), '-b', 'wasm']).done;
  t.is(wrong.code, 1, wrong.out);
  t.regex(wrong.out, /adalora: the adapter .*adapter was trained on another base model: its base has SHA-256 [0-9a-f]{12}…, .*other-base has [0-9a-f]{12}…/);
  t.false(existsSync(join(dir, 'wrong', 'model.safetensors')));
});

test.serial("predict scores a data file with a run's final adapter: the metrics equal the run's final dev evaluation; without labels it still predicts", async (t) => {
  const run = tmp();
  const trained = await startCli(['run', '--workers', '1', '-o', run, ...SHORT]).done;
  t.is(trained.code, 0, trained.out.slice(-2000));
  const records = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const finalEval = records.filter((r) => r.kind === 'eval').at(-1) as { metric: string; value?: number; metrics?: Record<string, number>; loss: number; samples: number };
  t.truthy(finalEval, 'the run evaluated on its dev set at the end');
  const expected = finalEval.metrics?.[finalEval.metric] ?? finalEval.value!;
  const base = join(run, 'task', 'base-model');
  const adapter = join(run, 'final', 'adapter');
  const dev = join(run, 'task', 'dev.jsonl');

  const out = join(run, 'pred', 'dev.predictions.jsonl');
  const p = await startCli(['predict', '--base', base, '-a', adapter, '-d', dev, '-o', out, '-b', 'wasm']).done;
  t.is(p.code, 0, p.out);
  // the same forward on the same rows as the coordinator's evaluation: the same numbers, bit for bit
  const summary = JSON.parse(/^metrics (\{.*\})$/m.exec(p.out)?.[1] ?? 'null') as { examples: number; metrics: Record<string, number>; loss: number } | null;
  t.truthy(summary, p.out);
  t.is(summary!.examples, finalEval.samples);
  t.is(summary!.metrics[finalEval.metric], expected);
  t.is(summary!.loss, finalEval.loss);
  const predictions = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; line: number; value: number });
  t.is(predictions.length, finalEval.samples);
  t.deepEqual(predictions.slice(0, 3).map((x) => [x.index, x.line]), [[0, 1], [1, 2], [2, 3]]);
  // the file's values give the same metric, by a second implementation
  const labels = readFileSync(dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { label: number }).label);
  t.true(Math.abs(pearson(predictions.map((x) => x.value), labels) - summary!.metrics.pearson) < 1e-9);

  // the same rows without labels: the same predictions, no metrics
  const unlabelled = join(run, 'dev-unlabelled.jsonl');
  writeFileSync(unlabelled, readFileSync(dev, 'utf8').trim().split('\n').map((l) => { const { label: _, ...rest } = JSON.parse(l) as Record<string, unknown>; return JSON.stringify(rest); }).join('\n') + '\n');
  const out2 = join(run, 'pred', 'unlabelled.jsonl');
  const u = await startCli(['predict', '--base', base, '-a', adapter, '-d', unlabelled, '-o', out2, '-b', 'wasm']).done;
  t.is(u.code, 0, u.out);
  t.regex(u.out, /512 examples \(no labels: no metrics\)|\d+ examples \(no labels: no metrics\)/);
  t.deepEqual(readFileSync(out2, 'utf8'), readFileSync(out, 'utf8'));
  // an existing predictions file is not overwritten without asking
  const exists = await startCli(['predict', '--base', base, '-a', adapter, '-d', dev, '-o', out, '-b', 'wasm']).done;
  t.is(exists.code, 1, exists.out);
  t.regex(exists.out, /already exists: .*--overwrite/);

  // the run's adapter on another base of the same shape: refused
  const other = anotherBaseOfSameShape(base, join(run, 'other-base'));
  const wrong = await startCli(['predict', '--base', other, '-a', adapter, '-d', dev, '-o', join(run, 'pred', 'wrong.jsonl'), '-b', 'wasm']).done;
  t.is(wrong.code, 1, wrong.out);
  t.regex(wrong.out, /was trained on another base model/);
});

test.serial("a text classification run's adapter: predict maps labels through the run's names (metrics = the final dev evaluation, predicted names in the file), merge writes those names; an unknown label is refused", async (t) => {
  const dir = tmp();
  // the checkpoint dir: config + weights + the fixtures' WordPiece tokenizer (49 ids < vocab 100)
  const model = join(dir, 'model');
  cpSync(fixturePath('bert', 'config.json'), join(model, 'config.json'));
  cpSync(fixturePath('bert', 'model.safetensors'), join(model, 'model.safetensors'));
  cpSync(fixturePath('tokenizer', 'tokenizer.json'), join(model, 'tokenizer.json'));
  const texts = ['the movie was very good', 'not bad, the plot', 'the acting was great.', 'bad movie', 'the plot was not good', 'very good acting'];
  const labels = ['pos', 'neg', 'pos', 'neg', 'neutral', 'pos'];
  writeFileSync(join(dir, 'train.tsv'), 'sentence\tlabel\n' + texts.map((x, i) => `${x}\t${labels[i]}`).join('\n') + '\n');
  writeFileSync(join(dir, 'dev.csv'), 'sentence,label\n' + texts.map((x, i) => `"${x}",${labels[i]}`).join('\n') + '\n');
  const config = {
    model,
    outputDir: join(dir, 'out'),
    data: { train: join(dir, 'train.tsv'), dev: join(dir, 'dev.csv'), maxLength: 16, metric: 'mcc' },
    adalora: { init_r: 4, target_r: 2, tinit: 1, tfinal: 2, deltaT: 1 },
    training: { batchSize: 4, epochs: 3, lr: 1e-2, microBatch: 2 },
    cluster: { backend: 'wasm' },
  };
  writeFileSync(join(dir, 'job.json'), JSON.stringify(config));
  const run = await startCli(['run', '-w', '1', '-c', join(dir, 'job.json'), '--no-progress']).done;
  t.is(run.code, 0, run.out.slice(-2000));
  const adapter = join(dir, 'out', 'final', 'adapter');
  const finalEval = readFileSync(join(dir, 'out', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.kind === 'eval').at(-1) as { metric: string; value?: number; metrics?: Record<string, number>; loss: number };

  const out = join(dir, 'dev.predictions.jsonl');
  const p = await startCli(['predict', '--base', model, '-a', adapter, '-d', join(dir, 'dev.csv'), '-o', out, '-b', 'wasm']).done;
  t.is(p.code, 0, p.out);
  const summary = JSON.parse(/^metrics (\{.*\})$/m.exec(p.out)?.[1] ?? 'null') as { metrics: Record<string, number>; loss: number };
  t.is(summary.metrics[finalEval.metric], finalEval.metrics?.[finalEval.metric] ?? finalEval.value!);
  t.is(summary.loss, finalEval.loss);
  if (finalEval.metrics) t.deepEqual(summary.metrics, finalEval.metrics);
  const predictions = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: string; label_id: number; scores: number[] });
  t.is(predictions.length, 6);
  // the run's classes are the sorted train labels: neg, neutral, pos
  for (const x of predictions) {
    t.is(x.label, ['neg', 'neutral', 'pos'][x.label_id]);
    t.is(x.scores.length, 3);
    t.is(x.label_id, x.scores.indexOf(Math.max(...x.scores)));
  }
  const accuracy = predictions.filter((x, i) => x.label === labels[i]).length / 6;
  t.is(accuracy, summary.metrics.accuracy, "the file's predicted names give the printed accuracy");

  // a label the run never saw: an error naming the file and line, nothing written
  writeFileSync(join(dir, 'odd.csv'), 'sentence,label\n"good",pos\n"so so",meh\n');
  const odd = await startCli(['predict', '--base', model, '-a', adapter, '-d', join(dir, 'odd.csv'), '-o', join(dir, 'odd.jsonl'), '-b', 'wasm']).done;
  t.is(odd.code, 1, odd.out);
  t.regex(odd.out, /odd\.csv.*3|line 3/);
  t.regex(odd.out, /meh/);
  t.false(existsSync(join(dir, 'odd.jsonl')));

  // merge: the run's label names in the merged config
  const merged = join(dir, 'merged');
  const m = await startCli(['merge', '-m', model, '-a', adapter, '-o', merged, '-b', 'wasm']).done;
  t.is(m.code, 0, m.out);
  const mergedConfig = JSON.parse(readFileSync(join(merged, 'config.json'), 'utf8')) as { id2label: Record<string, string>; label2id: Record<string, number> };
  t.deepEqual(mergedConfig.id2label, { 0: 'neg', 1: 'neutral', 2: 'pos' });
  t.deepEqual(mergedConfig.label2id, { neg: 0, neutral: 1, pos: 2 });
  t.true(existsSync(join(merged, 'tokenizer.json')));
});

/** Pearson's r in float64, as @adalora/data computes it (a second implementation, for the file's values). */
function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
