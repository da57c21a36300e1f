import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeConfig, RANK_RECOVERY_DEFAULTS } from '@adalora/config';
import { runLocalCluster, type LocalClusterResult } from '@adalora/test-support';

/** The built-in job, shortened: 48 steps still pass through warm-up, pruning and the final phase. */
async function builtinRun(workers: number): Promise<LocalClusterResult> {
  const out = mkdtempSync(join(tmpdir(), 'adalora-builtin-'));
  try {
    const config = mergeConfig(RANK_RECOVERY_DEFAULTS, {
      outputDir: out,
      training: { maxSteps: 48, evalEvery: 0 },
      adalora: { tinit: 6, tfinal: 12, deltaT: 3 },
      cluster: { backend: 'wasm' },
    }) as Record<string, unknown>;
    return await runLocalCluster({ config, workers });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('1, 2 and 3 workers give the same run on the built-in task', async (t) => {
  const runs = [];
  for (const n of [1, 2, 3]) runs.push(await builtinRun(n));
  const [one, ...more] = runs;
  t.truthy(one.result.rankPattern, 'the run reached its final rank pattern');
  const pattern = (r: LocalClusterResult) => JSON.stringify([...(r.result.rankPattern ?? [])]);
  let worst = 0;
  for (const [i, run] of more.entries()) {
    t.is(pattern(run), pattern(one), `${i + 2} workers: rank pattern`);
    t.is(run.reports.length, one.reports.length);
    run.reports.forEach((r, s) => {
      const rel = Math.abs(r.loss - one.reports[s].loss) / Math.abs(one.reports[s].loss);
      worst = Math.max(worst, rel);
      t.true(rel <= 1e-5, `${i + 2} workers, step ${s}: loss ${r.loss} vs ${one.reports[s].loss}`);
      t.deepEqual([...r.kept], [...one.reports[s].kept], `${i + 2} workers, step ${s}: kept ranks`);
    });
  }
  const kept = [...(one.result.rankPattern ?? new Map()).values()].map((p) => p.filter(Boolean).length);
  t.log(`${one.reports.length} steps; worst loss rel diff across worker counts ${worst.toExponential(2)}; kept ranks ${kept.join(' ')}`);
});
