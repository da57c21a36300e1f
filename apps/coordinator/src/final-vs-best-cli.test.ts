import test from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, startCli } from '@adalora/test-support';

const TEXTS = ['the movie was very good', 'not bad, the plot', 'the acting was great.', 'bad movie', 'the plot was not good', 'very good acting'];
const LABELS = ['pos', 'neg', 'pos', 'neg', 'neg', 'pos'];

interface EvalLine {
  readonly kind: string;
  readonly step: number;
  readonly value: number;
}

// The failure in small: a run whose dev accuracy peaks mid-run and ends much lower (here
// lr 0.1 on 6 sentences, 30 steps, a mask every 5 steps; runs are deterministic, so it falls the
// same way every time). Before, nothing kept the best adapter or said so.
test.serial('a run whose final adapter is much worse on dev than its best says so at the end, naming both values and best/, which holds the best one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-final-vs-best-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const model = join(dir, 'model');
  mkdirSync(model);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixturePath('bert', f), join(model, f));
  copyFileSync(fixturePath('tokenizer', 'tokenizer.json'), join(model, 'tokenizer.json'));
  const data = join(dir, 'train.tsv');
  writeFileSync(data, 'sentence\tlabel\n' + TEXTS.map((s, i) => `${s}\t${LABELS[i]}`).join('\n') + '\n');
  const config = join(dir, 'job.json');
  writeFileSync(
    config,
    JSON.stringify({
      model,
      reinitHead: true, // the fixture's head has 3 labels
      data: { train: data, dev: data, maxLength: 16 },
      adalora: { init_r: 4, target_r: 1, tinit: 5, tfinal: 2, deltaT: 5, orth_reg_weight: 0 },
      training: { batchSize: 6, maxSteps: 30, lr: 0.1, schedule: 'constant', evalEvery: 1 },
    }),
  );
  const out = join(dir, 'out');
  const r = await startCli(['run', '--workers', '1', '-c', config, '-o', out, '--backend', 'wasm', '--worker-backend', 'wasm', '--no-progress']).done;
  t.is(r.code, 0, r.out.slice(-2000));
  // ground truth: the run's own evaluation records
  const evals = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EvalLine)
    .filter((l) => l.kind === 'eval');
  const best = evals.reduce((a, b) => (b.value > a.value ? b : a));
  const final = evals.at(-1)!;
  t.is(final.step, 30);
  t.true(best.value - final.value > 0.05, `this job collapses (best ${best.value} at ${best.step}, final ${final.value})`);
  const warning = `WARNING: the final adapter (step 30) has dev accuracy ${final.value.toFixed(4)}, much worse than the best, ${best.value.toFixed(4)} at step ${best.step}: that adapter is kept in ${join(out, 'best', 'adapter')}`;
  const lines = r.out.trim().split('\n');
  t.is(lines.at(-1), warning, 'the last line of the run');
  t.true(lines.some((l) => l.endsWith(`coordinator: ${warning}`)), 'and in the log');
  const state = JSON.parse(readFileSync(join(out, 'best', 'trainer_state.json'), 'utf8')) as { step: number; best: unknown };
  t.is(state.step, best.step);
  t.deepEqual(state.best, { metric: 'accuracy', value: best.value });
  const saved = JSON.parse(readFileSync(join(out, 'best', 'adapter', 'adapter_config.json'), 'utf8')) as { peft_type: string };
  t.is(saved.peft_type, 'ADALORA');
});
