import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot, shortBuiltinConfig, startCli, stepLosses } from '@adalora/test-support';

/** Loads ecosystem.config.cjs under the given environment, as pm2 would, in a fresh process. */
function apps(env: Record<string, string>, cwd = repoRoot()): { ok: boolean; apps?: { name: string; script: string; cwd: string; args: string[]; env?: Record<string, string>; exec_mode?: string; instances?: number; instance_var?: string }[]; error?: string } {
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

test('worker role: one app of N instances pointed at the coordinator, numbered by pm2 for the device pinning', (t) => {
  const r = apps({ ADALORA_ROLE: 'worker', ADALORA_WORKERS: '2', ADALORA_COORDINATOR: 'ws://10.1.2.3:7070' });
  t.true(r.ok, r.error);
  t.is(r.apps!.length, 1);
  const [w] = r.apps!;
  t.is(w.name, 'adalora-worker');
  t.deepEqual(w.args.slice(0, 4), ['worker', '--coordinator', 'ws://10.1.2.3:7070', '--backend']);
  t.like(w, { exec_mode: 'fork', instances: 2, instance_var: 'ADALORA_WORKER_INDEX' });
  // the CLI pins the device from the index itself (a pm2-set env would override the user's CUDA_VISIBLE_DEVICES)
  t.is(w.env, undefined);
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

// ---------------------------------------------------------------------------------------------
// pm2 itself, end to end: a private PM2_HOME in a temp folder, the ecosystem file started from
// another folder with a coordinator and 2 worker instances, through a short built-in run to its
// end; then torn down (`pm2 kill` of that PM2_HOME only: its daemon and what it started).

interface Pm2Process {
  readonly name: string;
  readonly pm_id: number;
  readonly pm2_env: { readonly status: string; readonly pm_out_log_path: string; readonly exit_code?: number; readonly ADALORA_WORKER_INDEX?: string | number; readonly env?: Record<string, string> };
}

test.serial('pm2 runs the ecosystem file (coordinator + 2 worker instances) through a short built-in run; each worker instance gets its own device; same losses as `adalora run -w 2`', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'pm2-e2e-'));
  const pm2Home = join(root, 'pm2-home');
  const pm2Bin = join(repoRoot(), 'node_modules/.bin/pm2');
  // only what the run needs: nothing of this process's ADALORA_* or CUDA_* leaks in
  const baseEnv = { PATH: process.env.PATH ?? '', HOME: root, PM2_HOME: pm2Home };
  const pm2 = (args: string[], env: Record<string, string> = {}) => spawnSync(pm2Bin, args, { cwd: root, env: { ...baseEnv, ...env }, encoding: 'utf8', timeout: 120_000 });
  t.teardown(() => {
    pm2(['kill']);
    rmSync(root, { recursive: true, force: true });
  });
  const out = join(root, 'run');
  writeFileSync(join(root, 'job.json'), JSON.stringify(shortBuiltinConfig('ignored-by-ADALORA_OUTPUT')));
  const port = await freePort();
  const started = pm2(['start', join(repoRoot(), 'ecosystem.config.cjs')], {
    ADALORA_ROLE: 'both',
    ADALORA_WORKERS: '2',
    ADALORA_CONFIG: 'job.json', // relative: the folder pm2 was started from
    ADALORA_OUTPUT: 'run',
    ADALORA_HOST: '127.0.0.1',
    ADALORA_PORT: String(port),
    ADALORA_BACKEND: 'wasm',
    ADALORA_CACHE_DIR: join(root, 'model-cache'),
  });
  t.is(started.status, 0, `${started.stdout}\n${started.stderr}`);

  const list = (): Pm2Process[] => JSON.parse(pm2(['jlist']).stdout || '[]') as Pm2Process[];
  const deadline = Date.now() + 15 * 60_000;
  let procs = list();
  while (procs.some((p) => p.pm2_env.status !== 'stopped' && p.pm2_env.status !== 'errored') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    procs = list();
  }
  const logOf = (p: Pm2Process) => readFileSync(p.pm2_env.pm_out_log_path, 'utf8');
  const coordinator = procs.find((p) => p.name === 'adalora-coordinator');
  const workers = procs.filter((p) => p.name === 'adalora-worker');
  t.truthy(coordinator);
  t.is(workers.length, 2);
  const coordinatorLog = logOf(coordinator!);
  t.is(coordinator!.pm2_env.status, 'stopped', coordinatorLog.slice(-2000));
  t.regex(coordinatorLog, /first loss .* last loss .*; adapter: /, 'the run completed');
  t.true(existsSync(join(out, 'final/adapter/adapter_model.safetensors')), 'the final adapter is written');
  t.is(stepLosses(out).length, 16);

  // pm2 numbered the instances 0 and 1; each worker took its id and its device from that number before tfjs loaded
  const indexes = workers.map((w) => String(w.pm2_env.ADALORA_WORKER_INDEX ?? w.pm2_env.env?.ADALORA_WORKER_INDEX)).sort();
  t.deepEqual(indexes, ['0', '1']);
  for (const w of workers) {
    const index = String(w.pm2_env.ADALORA_WORKER_INDEX ?? w.pm2_env.env?.ADALORA_WORKER_INDEX);
    const log = logOf(w);
    t.regex(log, new RegExp(`devices: CUDA_VISIBLE_DEVICES=${index} \\(worker index ${index}\\)`), log.slice(-2000));
    const devicesAt = log.indexOf('devices: CUDA_VISIBLE_DEVICES');
    const backendAt = log.indexOf('backend:');
    t.true(devicesAt >= 0 && (backendAt < 0 || devicesAt < backendAt), 'pinned before the backend loaded');
    t.regex(coordinatorLog, new RegExp(`${hostname()}-${index}\\b`), `worker id ${hostname()}-${index} joined`);
  }

  // the same config run directly with 2 local workers: the same losses, bit for bit
  const direct = join(root, 'direct');
  const r = await startCli(['run', '--workers', '2', '-c', join(root, 'job.json'), '-o', direct, '--no-progress'], root, { ADALORA_CACHE_DIR: join(root, 'model-cache') }).done;
  t.is(r.code, 0, r.out.slice(-2000));
  t.deepEqual(stepLosses(out), stepLosses(direct));
});
