import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@adalora/test-support';

/** Loads ecosystem.config.cjs under the given environment, as pm2 would, in a fresh process. */
function apps(env: Record<string, string>, cwd = repoRoot()): { ok: boolean; apps?: { name: string; script: string; cwd: string; args: string[]; env?: Record<string, string> }[]; error?: string } {
  const r = spawnSync(process.execPath, ['-e', `try { console.log(JSON.stringify(require(${JSON.stringify(join(repoRoot(), 'ecosystem.config.cjs'))}).apps)) } catch (e) { console.error(e.message); process.exit(3) }`], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return r.status === 0 ? { ok: true, apps: JSON.parse(r.stdout) } : { ok: false, error: r.stderr };
}

test('coordinator role: one coordinator listening on all interfaces for the given workers', (t) => {
  const r = apps({ ADALORA_ROLE: 'coordinator', ADALORA_CONFIG: 'job.yaml', ADALORA_MIN_WORKERS: '4' });
  t.true(r.ok, r.error);
  t.is(r.apps!.length, 1);
  t.deepEqual(r.apps![0].args, ['coordinator', '--config', 'job.yaml', '--host', '0.0.0.0', '--port', '7070', '--min-workers', '4', '--no-progress']);
});

test('worker role: N workers pointed at the coordinator, one GPU each', (t) => {
  const r = apps({ ADALORA_ROLE: 'worker', ADALORA_WORKERS: '2', ADALORA_COORDINATOR: 'ws://10.1.2.3:7070' });
  t.true(r.ok, r.error);
  t.deepEqual(r.apps!.map((a) => a.name), ['adalora-worker-0', 'adalora-worker-1']);
  t.deepEqual(r.apps![1].args.slice(0, 4), ['worker', '--coordinator', 'ws://10.1.2.3:7070', '--backend']);
  t.deepEqual(r.apps![1].env, { CUDA_VISIBLE_DEVICES: '1' });
});

test('bad settings are refused, naming the variable', (t) => {
  t.regex(apps({ ADALORA_ROLE: 'boss' }).error ?? '', /ADALORA_ROLE/);
  t.regex(apps({ ADALORA_ROLE: 'worker', ADALORA_WORKERS: '0' }).error ?? '', /ADALORA_WORKERS/);
});

test('pm2 started from another folder finds the CLI by its absolute path and runs it in that folder', (t) => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'pm2-cwd-'));
  t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }));
  const r = apps({ ADALORA_ROLE: 'both', ADALORA_OUTPUT: 'runs/x' }, elsewhere);
  t.true(r.ok, r.error);
  for (const app of r.apps!) {
    t.is(app.script, join(repoRoot(), 'bin/adalora.mjs'));
    t.true(existsSync(app.script));
    t.is(realpathSync(app.cwd), realpathSync(elsewhere), 'relative paths (config, secret, output) mean the folder pm2 was started from');
  }
  t.deepEqual(r.apps![0].args.slice(-3), ['--output', 'runs/x', '--no-progress']);
});
