import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '@adalora/data';
import { fixturePath, startCli, writeSyntheticSquad } from '@adalora/test-support';

// `adalora predict` with a QA adapter (issue 11): a short SQuAD v2.0 run through the CLI, then
// predict on its final adapter and its dev file must give exactly the run's final dev scores
// and loss; the answers file, scored by a Python implementation of the official v2.0 script,
// gives the same EM/F1.

const dir = mkdtempSync(join(tmpdir(), 'adalora-predict-qa-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const model = join(dir, 'model');
mkdirSync(model);
for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixturePath('bert', f), join(model, f));
copyFileSync(fixturePath('tokenizer', 'tokenizer.json'), join(model, 'tokenizer.json'));
const tok = loadTokenizer(model);
const vocabulary = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i)!);
const train = writeSyntheticSquad(join(dir, 'train'), vocabulary, { seed: 3 });
const dev = writeSyntheticSquad(join(dir, 'dev'), vocabulary, { seed: 4, articles: 2 }); // 48 questions, 16 unanswerable

const SQUAD_EVAL = fileURLToPath(new URL('../../../libs/data/test-fixtures/squad_eval.py', import.meta.url));

// the tiny model learns "no answer" first: a high threshold makes every answer a span (and a
// long maxAnswerLength lets them overlap the gold ones), so that the scores test spans; predict must take it from the run config saved with the adapter
const THRESHOLD = 1000;

interface EvalRecord {
  kind: string;
  step: number;
  loss: number;
  samples: number;
  metrics: Record<string, number>;
}

test.serial("predict on a QA run's final adapter and its dev file gives the run's final dev EM/F1 (HasAns/NoAns) and loss exactly; HF's predictions.json and null_odds.json, or JSONL", async (t) => {
  const out = join(dir, 'run');
  const job = {
    model,
    outputDir: out,
    data: { task: 'qa', train: train.v2, dev: dev.v2, maxLength: 48, docStride: 16, maxAnswerLength: 40, nullScoreThreshold: THRESHOLD },
    adalora: { init_r: 3, target_r: 2, tinit: 1, tfinal: 1, deltaT: 1 },
    training: { batchSize: 16, maxSteps: 4, lr: 2e-2, microBatch: 8, evalEvery: 0 },
    cluster: { backend: 'wasm' },
  };
  writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
  const run = await startCli(['run', '-w', '1', '-c', join(dir, 'job.json'), '--no-progress']).done;
  t.is(run.code, 0, run.out.slice(-2000));
  // item of issue 11: counts print as integers in the eval line
  t.regex(run.out, /eval at step 4: em \d+\.\d{4}, f1 \d+\.\d{4}, .*HasAns_total 32, .*NoAns_total 16, loss/);
  const finalEval = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalRecord).filter((r) => r.kind === 'eval').at(-1)!;
  t.is(finalEval.step, 4);
  const adapter = join(out, 'final', 'adapter');

  // data settings from the run config saved beside the adapter: the run's windows and post-processing
  const predictions = join(dir, 'pred', 'predictions.json');
  const p = await startCli(['predict', '--base', model, '-a', adapter, '-d', dev.v2, '-o', predictions, '-b', 'wasm', '--batch-size', '13']).done;
  t.is(p.code, 0, p.out);
  t.regex(p.out, /SQuAD v2\.0, as the run detected it from/);
  t.regex(p.out, /48 questions: em \d+\.\d{4}, f1 .*HasAns_total 32, .*NoAns_total 16, loss \d/);
  const summary = JSON.parse(/^metrics (\{.*\})$/m.exec(p.out)?.[1] ?? 'null') as { questions: number; windows: number; metrics: Record<string, number>; loss: number } | null;
  t.truthy(summary, p.out);
  t.deepEqual(summary!.metrics, finalEval.metrics, 'the same scores as the final dev evaluation, bit for bit');
  t.is(summary!.loss, finalEval.loss);
  t.is(summary!.windows, finalEval.samples);
  t.is(summary!.questions, 48);

  // HF run_qa's files: id -> answer text, and for v2 id -> null score difference
  const answers = JSON.parse(readFileSync(predictions, 'utf8')) as Record<string, string>;
  const odds = JSON.parse(readFileSync(join(dir, 'pred', 'null_odds.json'), 'utf8')) as Record<string, number | null>;
  const devIds = (JSON.parse(readFileSync(dev.v2, 'utf8')) as { data: { paragraphs: { qas: { id: string }[] }[] }[] }).data.flatMap((a) => a.paragraphs.flatMap((pa) => pa.qas.map((q) => q.id)));
  t.deepEqual(Object.keys(answers), devIds);
  t.deepEqual(Object.keys(odds), devIds);
  // v2 post-processing with the run's threshold: "" exactly when the null score beats the best span by more
  for (const id of devIds) if (odds[id] !== null) t.is(answers[id] === '', odds[id]! > THRESHOLD, id);
  t.true(Object.values(answers).some((a) => a !== ''), 'spans are scored');
  // long answers allowed: the untrained model's spans overlap the gold ones, so F1 is not trivially 0 or 100
  t.true(summary!.metrics.HasAns_f1 > 0 && summary!.metrics.HasAns_f1 < 100, JSON.stringify(summary!.metrics));

  // the answers file scored by the official v2.0 rules in Python: the same numbers
  const python = spawnSync('python3', [SQUAD_EVAL, 'eval', dev.v2, predictions], { encoding: 'utf8' });
  if (python.error || python.status !== 0) t.log(`python3 check skipped: ${python.error?.message ?? python.stderr}`);
  else {
    const official = JSON.parse(python.stdout) as Record<string, number>;
    const m = summary!.metrics;
    t.deepEqual(
      { em: m.em, f1: m.f1, HasAns_em: m.HasAns_em, HasAns_f1: m.HasAns_f1, HasAns_total: m.HasAns_total, NoAns_em: m.NoAns_em, NoAns_f1: m.NoAns_f1, NoAns_total: m.NoAns_total },
      { em: official.exact, f1: official.f1, HasAns_em: official.HasAns_exact, HasAns_f1: official.HasAns_f1, HasAns_total: official.HasAns_total, NoAns_em: official.NoAns_exact, NoAns_f1: official.NoAns_f1, NoAns_total: official.NoAns_total },
    );
  }
  t.log(`final dev ${JSON.stringify(finalEval.metrics)}, loss ${finalEval.loss}`);

  // any other name: JSONL, one question a line, the same answers
  const jsonl = join(dir, 'pred', 'answers.jsonl');
  const j = await startCli(['predict', '--base', model, '-a', adapter, '-d', dev.v2, '-o', jsonl, '-b', 'wasm']).done;
  t.is(j.code, 0, j.out);
  const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; id: string; prediction_text: string; null_odds: number | null });
  t.deepEqual(lines.map((l) => [l.id, l.prediction_text, l.null_odds]), devIds.map((id) => [id, answers[id], odds[id]]));
  t.deepEqual(lines.map((l) => l.index), devIds.map((_, i) => i));

  // the same questions as HF datasets' JSONL rows: the same answers and scores
  type Qa = { id: string; question: string; answers: { text: string; answer_start: number }[] };
  const squad = JSON.parse(readFileSync(dev.v2, 'utf8')) as { data: { title: string; paragraphs: { context: string; qas: Qa[] }[] }[] };
  const rows = squad.data.flatMap((a) => a.paragraphs.flatMap((pa) => pa.qas.map((q) => ({ id: q.id, title: a.title, context: pa.context, question: q.question, answers: { text: q.answers.map((x) => x.text), answer_start: q.answers.map((x) => x.answer_start) } }))));
  writeFileSync(join(dir, 'dev.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const fromJsonl = join(dir, 'pred', 'from-jsonl.jsonl');
  const r = await startCli(['predict', '--base', model, '-a', adapter, '-d', join(dir, 'dev.jsonl'), '-o', fromJsonl, '-b', 'wasm']).done;
  t.is(r.code, 0, r.out);
  t.deepEqual(readFileSync(fromJsonl, 'utf8'), readFileSync(jsonl, 'utf8'));
  t.deepEqual((JSON.parse(/^metrics (\{.*\})$/m.exec(r.out)?.[1] ?? 'null') as { metrics: unknown } | null)?.metrics, finalEval.metrics);

  // v1.1 questions without answers (a file to answer, not to score): answers, no metrics
  const v1 = JSON.parse(readFileSync(dev.v1, 'utf8')) as { data: { paragraphs: { qas: { answers: unknown[] }[] }[] }[] };
  for (const a of v1.data) for (const pa of a.paragraphs) for (const q of pa.qas) q.answers = [];
  const unanswered = join(dir, 'unanswered-v1.json');
  writeFileSync(unanswered, JSON.stringify(v1));
  const u = await startCli(['predict', '--base', model, '-a', adapter, '-d', unanswered, '-o', join(dir, 'pred', 'v1.json'), '--squad-version', '1.1', '-b', 'wasm']).done;
  t.is(u.code, 0, u.out);
  t.regex(u.out, /48 questions \(no answers: no metrics\)/);
  const v1Answers = JSON.parse(readFileSync(join(dir, 'pred', 'v1.json'), 'utf8')) as Record<string, string>;
  t.is(Object.keys(v1Answers).length, 48);
  t.true(Object.values(v1Answers).every((a) => a !== ''), 'v1.1 post-processing never answers ""');
  t.false(existsSync(join(dir, 'pred', 'v1_null_odds.json')), 'no null odds for v1.1');

  // the existing null_odds.json is not overwritten without asking; a QA adapter is not read as classification
  const again = await startCli(['predict', '--base', model, '-a', adapter, '-d', dev.v2, '-o', join(dir, 'pred', 'eval_predictions.json'), '-b', 'wasm']).done;
  t.is(again.code, 0, again.out);
  t.true(existsSync(join(dir, 'pred', 'eval_null_odds.json')), "eval_predictions.json's null odds: eval_null_odds.json");
  rmSync(join(dir, 'pred', 'eval_predictions.json'));
  const exists = await startCli(['predict', '--base', model, '-a', adapter, '-d', dev.v2, '-o', join(dir, 'pred', 'eval_predictions.json'), '-b', 'wasm']).done;
  t.is(exists.code, 1);
  t.regex(exists.out, /eval_null_odds\.json already exists: .*--overwrite/);
  const wrongTask = await startCli(['predict', '--base', model, '-a', adapter, '-d', dev.v2, '-o', join(dir, 'pred', 'x.jsonl'), '--task', 'classification', '-b', 'wasm']).done;
  t.is(wrongTask.code, 1);
  t.regex(wrongTask.out, /is a question-answering adapter \(task_type QUESTION_ANS\) but data.task is classification \(from --task\)/);
  t.notRegex(wrongTask.out, /backend:/, 'refused before the backend loads');
});
