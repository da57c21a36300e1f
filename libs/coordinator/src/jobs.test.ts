import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPeftAdapterTensors } from '@adalora/models';
import { mergeConfig, parseRunConfig, RANK_RECOVERY_DEFAULTS } from '@adalora/config';
import { fixturePath, runLocalCluster } from '@adalora/test-support';
import { prepareJob } from './job';

// serial: runs in one process share the tfjs backend, which loads once at a time
test.serial('a text job: TSV train split and CSV dev split tokenized with the checkpoint tokenizer, 2 workers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-text-'));
  try {
    // the checkpoint dir: config + weights + the fixtures' WordPiece tokenizer (49 ids < vocab 100)
    const model = join(dir, 'model');
    mkdirSync(model);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixturePath('bert', f), join(model, f));
    copyFileSync(fixturePath('tokenizer', 'tokenizer.json'), join(model, 'tokenizer.json'));
    const texts = ['the movie was very good', 'not bad, the plot', 'the acting was great.', 'bad movie', 'the plot was not good', 'very good acting'];
    const labels = ['pos', 'neg', 'pos', 'neg', 'neutral', 'pos'];
    writeFileSync(join(dir, 'train.tsv'), 'sentence\tlabel\n' + texts.map((s, i) => `${s}\t${labels[i]}`).join('\n') + '\n');
    writeFileSync(join(dir, 'dev.csv'), 'sentence,label\n' + texts.map((s, i) => `"${s}",${labels[i]}`).join('\n') + '\n');
    const { reports, result } = await runLocalCluster({
      workers: 2,
      config: {
        model,
        outputDir: join(dir, 'out'),
        data: { train: join(dir, 'train.tsv'), dev: join(dir, 'dev.csv'), maxLength: 16, metric: 'mcc' },
        adalora: { init_r: 4, target_r: 2, tinit: 1, tfinal: 2, deltaT: 1 },
        training: { batchSize: 4, epochs: 3, lr: 1e-2, microBatch: 2 },
        cluster: { backend: 'wasm' },
      },
    });
    t.is(reports.length, 6); // ceil(6 / 4) × 3 epochs
    t.is(result.finalEval?.samples, 6);
    t.true(Number.isFinite(result.finalEval!.metrics.mcc!));
    t.is(readPeftAdapterTensors(result.adapterDir).get('base_model.model.bert.encoder.layer.0.attention.self.query.lora_E')?.shape[1], 1);
    const metrics = readFileSync(join(dir, 'out/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // one step numbering: steps 1…6, the evaluation after step 6 says 6; the first line holds the resolved config
    t.is(metrics[0].kind, 'config');
    t.is(metrics[0].totalSteps, 6);
    t.deepEqual(metrics.filter((m) => m.kind === 'step').map((m) => m.step), [1, 2, 3, 4, 5, 6]);
    t.deepEqual(metrics.filter((m) => m.kind === 'step').map((m) => m.epoch), [0.5, 1, 1.5, 2, 2.5, 3]);
    t.true(metrics.every((m) => m.runId === metrics[0].runId && !Number.isNaN(Date.parse(m.time))));
    const evalRecord = metrics.filter((m) => m.kind === 'eval').at(-1);
    const { time, runId, ...rest } = evalRecord;
    t.deepEqual(rest, { kind: 'eval', step: 6, epoch: 3, metric: 'mcc', value: result.finalEval!.metrics.mcc, metrics: { ...result.finalEval!.metrics }, loss: result.finalEval!.loss, samples: 6 });
    t.true(Object.keys(evalRecord.metrics).length > 1, 'every metric, not only the headline');
    const events = metrics.filter((m) => m.kind === 'event').map((m) => `${m.step} ${m.event}`);
    t.deepEqual(events.filter((e) => e.endsWith('join')), ['0 join', '0 join'], 'both workers joined before step 1');
    t.is(events.at(-1), '6 checkpoint', 'the final adapter, and no drop for the end of the run');
    t.is(result.reportPath, join(dir, 'out/report.html'));
    t.true(existsSync(join(dir, 'out/metrics-steps.csv')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('LoRA mode trains the same job with one rank everywhere and saves a LoRA adapter', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-lora-'));
  try {
    const config = mergeConfig(RANK_RECOVERY_DEFAULTS, {
      outputDir: dir,
      adalora: { mode: 'lora', init_r: 2, lora_alpha: 4, tinit: 0, tfinal: 0, deltaT: 1 },
      training: { maxSteps: 24, evalEvery: 0, lr: 5e-3 },
      cluster: { backend: 'wasm' },
    }) as Record<string, unknown>;
    const { reports, result } = await runLocalCluster({ config, workers: 2 });
    t.is(result.rankPattern, null);
    t.true(reports.every((r) => r.budget === null && r.kept.size === 0));
    // per-batch losses are noisy: compare the means of the first and the last four steps
    const mean = (xs: readonly { loss: number }[]) => xs.reduce((s, r) => s + r.loss, 0) / xs.length;
    const [first, last] = [mean(reports.slice(0, 4)), mean(reports.slice(-4))];
    t.true(last < first, `loss fell: ${first} -> ${last}`);
    const saved = JSON.parse(readFileSync(join(result.adapterDir, 'adapter_config.json'), 'utf8'));
    t.is(saved.peft_type, 'LORA');
    t.is(saved.r, 2);
    t.true(existsSync(join(result.adapterDir, 'adapter_model.safetensors')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data the model cannot embed is refused before the model loads: an id >= vocab_size, a row past the positions, naming file and line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-limits-'));
  try {
    const job = async (model: string, rows: string[]) => {
      const train = join(dir, 'train.jsonl');
      writeFileSync(train, rows.join('\n') + '\n');
      const log: string[] = [];
      const config = parseRunConfig({ model, outputDir: join(dir, 'out'), data: { train, format: 'pretokenized' }, training: { batchSize: 2, maxSteps: 1 } });
      const e = await t.throwsAsync(prepareJob(config, (l) => log.push(l)));
      t.false(log.some((l) => l.startsWith('model ')), 'no model was loaded');
      return { e: e!, train };
    };
    const ok = (n: number) => JSON.stringify({ input_ids: Array.from({ length: n }, (_, i) => 1 + (i % 50)), label: 0 });
    // the fixture BERT: vocab_size 100, 64 positions
    const vocab = await job(fixturePath('bert'), [ok(3), '', JSON.stringify({ input_ids: [2, 100, 3], label: 1 })]);
    t.is(vocab.e.message, `${vocab.train}:3: input id 100 is outside the model's vocabulary of 100 (vocab_size in ${fixturePath('bert', 'config.json')}); the data was tokenized for another model`);
    const long = await job(fixturePath('bert'), [ok(64), ok(65)]);
    t.regex(long.e.message, /train\.jsonl:2: a row of 65 tokens is longer than the model's 64 positions \(max_position_embeddings in /);
    // RoBERTa numbers positions from pad_token_id + 1: of its 66, rows get 64
    const roberta = await job(fixturePath('roberta'), [ok(65)]);
    t.regex(roberta.e.message, /train\.jsonl:1: a row of 65 tokens is longer than the model's 64 positions \(max_position_embeddings 66 - pad_token_id 1 - 1 in /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
