import test from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '@adalora/config';
import { readPeftAdapterTensors } from '@adalora/models';
import { fixturePath, runLocalCluster } from '@adalora/test-support';
import { prepareJob } from './job';

const TEXTS = ['the movie was very good', 'not bad, the plot', 'the acting was great.', 'bad movie', 'the plot was not good', 'very good acting'];

/** A checkpoint folder (the bert fixture: a 3-label head) with its tokenizer, and a TSV writer. */
function scratch(t: { teardown(fn: () => void): void }): { dir: string; model: string; tsv: (name: string, labels: readonly string[]) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-labels-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, 'model');
  mkdirSync(model);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixturePath('bert', f), join(model, f));
  copyFileSync(fixturePath('tokenizer', 'tokenizer.json'), join(model, 'tokenizer.json'));
  const tsv = (name: string, labels: readonly string[]) => {
    const file = join(dir, name);
    writeFileSync(file, 'sentence\tlabel\n' + labels.map((l, i) => `${TEXTS[i % TEXTS.length]}\t${l}`).join('\n') + '\n');
    return file;
  };
  return { dir, model, tsv };
}

const textConfig = (model: string, dir: string, train: string, dev: string, extra: Record<string, unknown> = {}) =>
  parseRunConfig({ model, outputDir: join(dir, 'out'), data: { train, dev, maxLength: 16 }, training: { batchSize: 4, maxSteps: 1 }, ...extra });

test.serial('a dev label training never saw is an error naming the dev file and line, before any model loads', async (t) => {
  const { dir, model, tsv } = scratch(t);
  const train = tsv('train.tsv', ['pos', 'neg', 'neutral', 'pos', 'neg', 'neutral']);
  // three distinct labels, as many as train: mapped by its own sorted names this ran silently on a wrong mapping
  const dev = tsv('dev.tsv', ['pos', 'neg', 'positive', 'neg']);
  const log: string[] = [];
  const e = await t.throwsAsync(prepareJob(textConfig(model, dir, train, dev), (l) => log.push(l)));
  t.is(e!.message, `${dev}:4: label "positive" is not one of "neg", "neutral", "pos" (the labels of ${train})`);
  t.false(log.some((l) => l.startsWith('model ')), 'refused before the model loaded');
  // with data.labels the error names that list as the source
  const named = await t.throwsAsync(prepareJob(textConfig(model, dir, train, dev, { data: { train, dev, labels: ['neg', 'neutral', 'pos'] } }), () => {}));
  t.regex(named!.message, /dev\.tsv:4: label "positive" is not one of "neg", "neutral", "pos" \(data\.labels\)$/);
});

test.serial('dev labels use the train ids: a dev file with a subset of the labels (or other sorting) gets the train ids', async (t) => {
  const { dir, model, tsv } = scratch(t);
  const train = tsv('train.tsv', ['pos', 'neg', 'neutral', 'pos', 'neg', 'neutral']);
  // only two of the three labels: by its own sorted names "pos" would have been class 1 (and refused for 2 classes)
  const dev = tsv('dev.tsv', ['pos', 'neutral', 'pos']);
  const job = await prepareJob(textConfig(model, dir, train, dev), () => {});
  try {
    t.deepEqual(job.train.labelNames, ['neg', 'neutral', 'pos']);
    t.deepEqual(job.dev!.labelNames, ['neg', 'neutral', 'pos']);
    t.deepEqual(job.dev!.examples.map((e) => e.label), [2, 1, 2]);
    t.is(job.dev!.numLabels, 3);
  } finally {
    job.dispose();
  }
});

test.serial('pre-tokenized dev labels must be below the train label count, naming file and line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-labels-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const row = (label: number) => JSON.stringify({ input_ids: [2, 5, 6, 3], label });
  writeFileSync(join(dir, 'train.jsonl'), [0, 1, 0, 1].map(row).join('\n') + '\n');
  writeFileSync(join(dir, 'dev.jsonl'), [0, 1, 2].map(row).join('\n') + '\n');
  const config = parseRunConfig({ model: fixturePath('bert'), outputDir: join(dir, 'out'), data: { train: join(dir, 'train.jsonl'), dev: join(dir, 'dev.jsonl'), format: 'pretokenized' }, training: { batchSize: 2, maxSteps: 1 } });
  await t.throwsAsync(prepareJob(config, () => {}), { message: `${join(dir, 'dev.jsonl')}:3: class label 2 is not below numLabels 2` });
});

test.serial('a checkpoint whose head has another label count is refused naming the shapes; reinitHead trains a new head on every worker, with a warning', async (t) => {
  const { dir, model, tsv } = scratch(t);
  // the fixture's head has 3 labels; this data has 2
  const train = tsv('train.tsv', ['pos', 'neg', 'pos', 'neg', 'pos', 'neg']);
  const dev = tsv('dev.tsv', ['neg', 'pos']);
  const refused = await t.throwsAsync(prepareJob(textConfig(model, dir, train, dev), () => {}));
  t.regex(refused!.message, /head weight 'classifier\.weight' has shape \[3,32\], the model needs \[2,32\] .*reinitHead: true/);

  const log: string[] = [];
  const { reports, result } = await runLocalCluster({
    workers: 2,
    log: (l) => log.push(l),
    config: {
      model,
      reinitHead: true,
      outputDir: join(dir, 'out'),
      data: { train, dev, maxLength: 16 },
      adalora: { init_r: 4, target_r: 2, tinit: 0, tfinal: 0, deltaT: 1 },
      training: { batchSize: 4, maxSteps: 3, lr: 1e-2, microBatch: 2 },
      cluster: { backend: 'wasm' },
    },
  });
  t.true(log.includes("WARNING: reinitHead: the checkpoint's 'classifier.weight' [3,32] does not fit 2 label(s): replaced by a new [2,32] from training.seed"), log.join('\n'));
  t.true(log.some((l) => l.includes("'classifier.bias' [3] does not fit 2 label(s): replaced by a new [2]")));
  t.is(reports.length, 3);
  t.true(reports.every((r) => Number.isFinite(r.loss)));
  t.is(result.finalEval?.samples, 2);
  const saved = readPeftAdapterTensors(result.adapterDir);
  t.deepEqual([...saved].find(([name]) => name.endsWith('classifier.weight'))?.[1].shape, [2, 32], 'the saved head is the new 2-label one');
});
