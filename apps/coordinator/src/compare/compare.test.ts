import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@adalora/test-support';
import { compareCommand, initRankFor } from './compare-command';
import { meanStd } from './compare-report';

test('meanStd: mean and sample standard deviation', (t) => {
  t.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1 });
  t.deepEqual(meanStd([5]), { mean: 5, std: 0 });
});

test('init_r is 1.5 × the budget, rounded up, as the paper sets it', (t) => {
  t.deepEqual([1, 2, 4].map(initRankFor), [2, 3, 6]);
});

// Tiny sizes, one seed, one budget: the point is the invariant (equal budgets) and the files.
test('compare: LoRA r and AdaLoRA target_r end with equal adapter values; table and plot written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-compare-'));
  try {
    const budget = 2;
    const { rows, files } = await compareCommand(
      { output: dir, tasks: ['teacher', 'text'], budgets: [budget], seeds: 1, steps: 12, train: 64, dev: 32, batchSize: 16, lr: 2e-2, workers: 1, backend: 'wasm', tokenizer: fixturePath('tokenizer'), taskSeed: 3 },
      () => {},
    );
    t.is(rows.length, 4);
    for (const task of ['teacher', 'text']) {
      const lora = rows.find((r) => r.task === task && r.method === 'lora')!;
      const ada = rows.find((r) => r.task === task && r.method === 'adalora')!;
      // expected from the task's own config.json: four hidden × hidden matrices per layer, r (in + out) values each
      const config = JSON.parse(readFileSync(join(dir, 'tasks', task, 'base-model', 'config.json'), 'utf8')) as { hidden_size: number; num_hidden_layers: number };
      const matrices = 4 * config.num_hidden_layers;
      t.is(lora.abValues, matrices * budget * 2 * config.hidden_size, `${task}: LoRA values`);
      t.deepEqual(Object.values(lora.keptRanks), Array(matrices).fill(budget));
      const kept = Object.values(ada.keptRanks);
      t.is(kept.length, matrices);
      t.is(kept.reduce((a, b) => a + b, 0), matrices * budget, `${task}: AdaLoRA keeps target_r × matrices ranks`);
      t.true(kept.every((k) => k <= initRankFor(budget)));
      t.is(ada.abValues, lora.abValues, `${task}: equal A+B values`);
      t.is(ada.eValues, matrices * budget);
      t.true(Number.isFinite(lora.devMse) && Number.isFinite(ada.devMse));
    }
    t.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['compare.csv', 'compare.json', 'compare.md', 'compare.html']);
    const csv = readFileSync(join(dir, 'compare.csv'), 'utf8').trim().split('\n');
    t.is(csv.length, 5);
    t.true(csv[0].startsWith('task,method,budget'));
    const json = JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')) as { summary: unknown[]; runs: unknown[] };
    t.is(json.summary.length, 4);
    t.is(json.runs.length, 4);
    const md = readFileSync(join(dir, 'compare.md'), 'utf8');
    t.regex(md, /\| teacher \| 2 \|/);
    t.regex(md, /\| text \| 2 \|/);
    const html = readFileSync(join(dir, 'compare.html'), 'utf8');
    t.true(html.includes('uPlot'), 'uPlot is inlined');
    t.false(/<script[^>]+src=/.test(html), 'no external script');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
