import test from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer } from '@adalora/data';
import { readPeftAdapterTensors } from '@adalora/models';
import { fixturePath, runLocalCluster, stepLosses, writeSyntheticSquad, type LocalClusterResult } from '@adalora/test-support';
import { parseRunConfig } from '@adalora/config';
import { prepareJob } from './job';
import type { EvalMetrics } from './metrics-log';
import { readMetrics } from './metrics-file';

// SQuAD v1.1 and v2.0 files of 240 questions (seeded, contexts of 80 words: several 48-token
// windows each) train with AdaLoRA on the fixture-shaped BERT (hidden 32, 2 layers, 64
// positions) with the fixtures' WordPiece tokenizer (49 ids < its vocabulary of 100).
const dir = mkdtempSync(join(tmpdir(), 'adalora-squad-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const model = join(dir, 'model');
mkdirSync(model);
for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixturePath('bert', f), join(model, f));
copyFileSync(fixturePath('tokenizer', 'tokenizer.json'), join(model, 'tokenizer.json'));
const tok = loadTokenizer(model);
const vocabulary = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i)!);
const train = writeSyntheticSquad(join(dir, 'train'), vocabulary, { seed: 3 }); // 10 × 4 × 6 = 240 questions
const dev = writeSyntheticSquad(join(dir, 'dev'), vocabulary, { seed: 4, articles: 2 }); // 48 questions

const STEPS = 6;
const EVAL_EVERY = 3;

async function squadRun(version: 'v1' | 'v2', workers: number): Promise<LocalClusterResult & { out: string; log: string[] }> {
  const out = join(dir, `out-${version}-${workers}`);
  const log: string[] = [];
  const run = await runLocalCluster({
    workers,
    log: (line) => log.push(line),
    config: {
      model,
      outputDir: out,
      data: { task: 'qa', train: train[version], dev: dev[version], maxLength: 48, docStride: 16, maxAnswerLength: 8 },
      adalora: { init_r: 3, target_r: 2, tinit: 1, tfinal: 2, deltaT: 1 },
      training: { batchSize: 16, maxSteps: STEPS, lr: 1e-2, microBatch: 8, evalEvery: EVAL_EVERY },
      cluster: { backend: 'wasm' },
    },
  });
  return { ...run, out, log };
}

// the evaluation records without when and by which run they were written (those differ between runs)
const evalLines = (out: string): Omit<EvalMetrics, 'time' | 'runId'>[] =>
  readMetrics(join(out, 'metrics.jsonl'))
    .filter((m): m is EvalMetrics => m.kind === 'eval')
    .map(({ time: _time, runId: _runId, ...rest }) => rest);

function checkAdapter(t: import('ava').ExecutionContext, adapterDir: string): void {
  const config = JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8'));
  t.is(config.task_type, 'QUESTION_ANS');
  t.deepEqual(config.modules_to_save, ['qa_outputs']);
  t.is(config.peft_type, 'ADALORA');
  const tensors = readPeftAdapterTensors(adapterDir);
  t.deepEqual(tensors.get('base_model.model.qa_outputs.weight')?.shape, [2, 32]);
  t.deepEqual(tensors.get('base_model.model.qa_outputs.bias')?.shape, [2]);
}

// serial: runs in one process share the tfjs backend
test.serial('SQuAD v1.1 JSON on 2 workers: dev EM/F1 at every evaluation, a QUESTION_ANS adapter', async (t) => {
  const run = await squadRun('v1', 2);
  t.is(run.reports.length, STEPS);
  t.true(run.log.some((l) => /SQuAD v1\.1 \(detected\): 240 train \/ 48 dev questions/.test(l)), 'the version is detected and logged');
  const evals = evalLines(run.out);
  t.deepEqual(evals.map((e) => e.step), [EVAL_EVERY, STEPS]);
  for (const e of evals) {
    t.is(e.metric, 'f1');
    t.deepEqual(Object.keys(e.metrics).sort(), ['em', 'f1']);
    t.is(e.value, e.metrics.f1);
    t.true(e.metrics.em >= 0 && e.metrics.em <= e.metrics.f1 && e.metrics.f1 <= 100, JSON.stringify(e.metrics));
    t.true(Number.isFinite(e.loss) && e.loss > 0);
  }
  t.true(run.log.some((l) => new RegExp(`eval at step ${EVAL_EVERY}: em \\d+\\.\\d{4}, f1 \\d+\\.\\d{4}, loss`).test(l)), 'each eval is logged');
  t.is(run.result.finalEval?.metrics.f1, evals.at(-1)!.value);
  checkAdapter(t, run.result.adapterDir);
  t.log(`v1.1: ${run.reports.length} steps, dev ${evals.map((e) => `step ${e.step} EM ${e.metrics.em.toFixed(1)} F1 ${e.metrics.f1.toFixed(1)}`).join('; ')}`);
});

test.serial('SQuAD v2.0 JSON: HasAns/NoAns splits reported; 1 and 2 workers give the same run bit for bit', async (t) => {
  const two = await squadRun('v2', 2);
  const one = await squadRun('v2', 1);
  t.true(two.log.some((l) => /SQuAD v2\.0 \(detected\)/.test(l)));
  const losses = stepLosses(two.out);
  t.is(losses.length, STEPS);
  t.deepEqual(stepLosses(one.out), losses, 'step losses equal bit for bit');
  const [evals1, evals2] = [evalLines(one.out), evalLines(two.out)];
  t.deepEqual(evals1, evals2, 'dev scores and losses equal');
  t.deepEqual(evals2.map((e) => e.step), [EVAL_EVERY, STEPS]);
  for (const e of evals2) {
    // 48 dev questions, every third unanswerable
    t.like(e.metrics, { HasAns_total: 32, NoAns_total: 16 });
    t.true(Math.abs(e.metrics.em - (32 * e.metrics.HasAns_em + 16 * e.metrics.NoAns_em) / 48) < 1e-9, 'EM is the splits weighted by their questions');
  }
  t.deepEqual([...(one.result.rankPattern ?? [])], [...(two.result.rankPattern ?? [])]);
  checkAdapter(t, two.result.adapterDir);
  t.log(`v2.0: losses ${losses.map((l) => l.toFixed(4)).join(' ')}; final ${JSON.stringify(evals2.at(-1)!.metrics)}`);
});

test.serial('windows longer than the model\'s positions are refused naming data.maxLength, before the model loads', async (t) => {
  const config = parseRunConfig({ model, outputDir: join(dir, 'never'), data: { task: 'qa', train: train.v1, maxLength: 128 } });
  await t.throwsAsync(prepareJob(config, () => {}), { message: /^config: 'data.maxLength' \(128\) is longer than the model's 64 positions \(max_position_embeddings in .*config.json\); QA windows are padded to it, lower it$/ });
});
