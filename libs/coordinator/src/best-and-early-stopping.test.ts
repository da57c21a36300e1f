import test from 'ava';
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeConfig } from '@adalora/config';
import { runLocalCluster, shortBuiltinConfig } from '@adalora/test-support';

interface EvalLine {
  readonly kind: 'eval';
  readonly step: number;
  readonly value: number;
}

const records = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; step: number });

test.serial('best/ holds the adapter of the best evaluation (PEFT layout as final/, with its step and value); early stopping ends the run after `patience` evaluations without an improvement above the threshold', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-best-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a threshold no metric in [-1, 1] can beat: the first evaluation sets the best, the next two
  // miss, so the run stops at step 6 of 16 whatever the values are
  const config = mergeConfig(shortBuiltinConfig(dir), { training: { evalEvery: 2, earlyStoppingPatience: 2, earlyStoppingThreshold: 1.5 } }) as Record<string, unknown>;
  const log: string[] = [];
  const { reports, result } = await runLocalCluster({ config, workers: 2, log: (l) => log.push(l) });
  t.is(reports.length, 6);
  t.is(result.steps, 6);
  const all = records(dir);
  t.deepEqual(all.filter((r) => r.kind === 'step').map((r) => r.step), [1, 2, 3, 4, 5, 6]); // steps done, 1-based
  const evals = all.filter((r): r is EvalLine => r.kind === 'eval');
  t.deepEqual(evals.map((e) => e.step), [2, 4, 6]);
  t.true(log.some((l) => l.startsWith('early stopping at step 6: dev pearson did not improve by more than 1.5 in 2 evaluation(s)')), log.join('\n'));

  // best/: the first evaluation holding the highest value (ground truth: the run's own eval records)
  const top = evals.reduce((a, b) => (b.value > a.value ? b : a));
  t.deepEqual(result.best, { step: top.step, metric: 'pearson', value: top.value });
  const state = JSON.parse(readFileSync(join(dir, 'best', 'trainer_state.json'), 'utf8')) as { step: number; best: unknown };
  t.is(state.step, top.step);
  t.deepEqual(state.best, { metric: 'pearson', value: top.value });
  t.deepEqual(readdirSync(join(dir, 'best', 'adapter')).sort(), readdirSync(join(dir, 'final', 'adapter')).sort());
  t.true(readdirSync(join(dir, 'best')).includes('manifest.json'));
  const final = JSON.parse(readFileSync(join(dir, 'final', 'trainer_state.json'), 'utf8')) as { step: number };
  t.is(final.step, 6, 'final/ is the state where the run stopped');
  // the final adapter is the one of step 6: the warning only when it is much worse than the best
  const last = evals.at(-1)!;
  t.is(result.finalVsBest !== null, top.step !== 6 && top.value - last.value > 0.05);
});
