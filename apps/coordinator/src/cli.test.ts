import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, freePort, startCli, stepLosses, until } from '@adalora/test-support';

// a short built-in run: 16 steps through warm-up, pruning and the final phase
const SHORT = ['--set', 'training.maxSteps=16', '--set', 'training.evalEvery=0', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];

const start = startCli;


test.serial('`adalora run` trains the built-in job on 2 local workers, prints the ranks and exits', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'adalora-cli-'));
  try {
    const { done } = start(['run', '--workers', '2', '-o', out, ...SHORT]);
    const r = await done;
    t.is(r.code, 0, r.out.slice(-2000));
    t.regex(r.out, /matrix\s+true\s+kept/);
    t.regex(r.out, /bert\.encoder\.layer\.1\.output\.dense\s+\d+\s+\d+/);
    t.true(existsSync(join(out, 'final/adapter/adapter_model.safetensors')));
    t.is(stepLosses(out).length, 16);
    // both workers were shut down by the coordinator, not killed
    t.is((r.out.match(/\[worker \d\].*stopped/g) ?? []).length, 0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.serial('a worker started before its coordinator waits and joins; a worker killed mid-run changes nothing', async (t) => {
  const cleanDir = mkdtempSync(join(tmpdir(), 'adalora-cli-'));
  const dir = mkdtempSync(join(tmpdir(), 'adalora-cli-'));
  const children: ChildProcess[] = [];
  try {
    const clean = start(['run', '--workers', '1', '-o', cleanDir, ...SHORT]);
    t.is((await clean.done).code, 0);
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    // workers first: nothing listens yet, so they retry with back-off
    // with no --model they fetch it from the coordinator: into the test's folder, not the user's cache
    const cache = ['--cache-dir', join(dir, 'model-cache')];
    const w1 = start(['worker', '--coordinator', url, '--backend', 'wasm', '--id', 'a', ...cache]);
    const w2 = start(['worker', '--coordinator', url, '--backend', 'wasm', '--id', 'b', ...cache]);
    children.push(w1.child, w2.child);
    await until(() => /retrying/.test(w1.output()), 'worker a to retry');
    const coord = start(['coordinator', '--port', String(port), '--min-workers', '2', '-o', dir, ...SHORT]);
    children.push(coord.child);
    await until(() => /step 10\/16/.test(coord.output()), 'step 10');
    w2.child.kill('SIGKILL');
    const r = await coord.done;
    t.is(r.code, 0, r.out.slice(-2000));
    t.is((await w1.done).code, 0, 'the surviving worker was shut down cleanly');
    t.deepEqual(stepLosses(dir), stepLosses(cleanDir), 'same losses as the one-worker run, bit for bit');
  } finally {
    children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
    rmSync(cleanDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad config is refused up front, naming the field', async (t) => {
  const r = await start(['run', '--set', 'training.lr=-1', '--no-progress']).done;
  t.is(r.code, 1);
  t.regex(r.out, /'training\.lr' must be > 0/);
  const r2 = await start(['coordinator', '--set', 'training.bogus=1']).done;
  t.is(r2.code, 1);
  t.regex(r2.out, /unknown field 'training\.bogus'/);
  // from another folder too: the CLI finds its own tsconfig (the @adalora/* paths), not the cwd's
  const elsewhere = mkdtempSync(join(tmpdir(), 'adalora-cwd-'));
  t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }));
  const r3 = await start(['run', '--set', 'adalora.target_r=99'], elsewhere).done;
  t.is(r3.code, 1, r3.out);
  t.regex(r3.out, /'adalora\.target_r' must be <= 'adalora\.init_r' \(6\), got 99/);
});

test.serial('a bad field or flag is refused before anything runs: named as written, nothing written, no backend loaded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-bad-config-'));
  try {
    const timed = async (args: readonly string[]) => {
      const started = performance.now();
      const r = await start(args).done;
      return { ...r, ms: performance.now() - started };
    };
    // Reference measured in the same run: the CLI's start-up alone (node and tsx; `--help` loads
    // no tfjs), 0.6-0.8 s on an idle machine, seconds on a busy one. A refusal adds a few ms to
    // it; that tfjs is not loaded first is checked, without a clock, by
    // tools/module-boundaries.test.ts. The bound here is generous so that a loaded machine cannot
    // fail it: it catches a refusal that comes only after the job was prepared (~6 s more).
    const help = await timed(['--help']);
    t.is(help.code, 0, help.out);
    const file = join(dir, 'job.yaml');
    writeFileSync(file, 'adalora:\n  tinit: 600\n  tfinal: 200\n');
    const cases: [string[], string][] = [
      [['run', '-s', 'adalora.target_r=99'], "config: 'adalora.target_r' must be <= 'adalora.init_r' (6), got 99"],
      // the built-in job's 768 steps are known without its data: the schedule is checked up front
      [['run', '-c', file], "config: 'adalora.tinit' must be < the run's optimizer steps - 'adalora.tfinal' (768 - 200 = 568) so the budget has steps to fall, got 600"],
      [['coordinator', '-s', 'adalora.loraDropout=1'], "config: 'adalora.loraDropout' must be in [0, 1), got 1"],
      // a flag that is not part of the config is checked as early
      [['run', '--worker-backend', 'gpu'], "backend 'gpu' is not valid (expected one of: auto, tensorflow, wasm, cpu)"],
    ];
    for (const [args, message] of cases) {
      const out = join(dir, 'out');
      const r = await timed([...args, '-o', out, '--no-progress']);
      t.log(`${args.join(' ')}: exit ${r.code} after ${Math.round(r.ms)} ms (help: ${Math.round(help.ms)} ms)`);
      t.is(r.code, 1, r.out);
      t.true(r.out.includes(`adalora: ${message}\n`), r.out);
      t.false(existsSync(out), 'nothing written');
      t.notRegex(r.out, /backend:/, 'no backend loaded');
      t.true(r.ms - help.ms < 5000, `${Math.round(r.ms)} ms, the help text ${Math.round(help.ms)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`adalora merge` folds a PEFT adapter into its base checkpoint; a mismatching adapter is refused', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'adalora-merge-'));
  try {
    const bert = fixturePath('bert');
    const r = await start(['merge', '-m', bert, '-a', join(bert, 'adalora-adapter'), '-o', out, '-b', 'wasm']).done;
    t.is(r.code, 0, r.out);
    t.regex(r.out, /merged 12 adalora adapters \(36 rank-1 triplets in all\)/);
    t.true(existsSync(join(out, 'config.json')) && existsSync(join(out, 'model.safetensors')));
    const bad = await start(['merge', '-m', fixturePath('roberta'), '-a', join(bert, 'adalora-adapter'), '-o', join(out, 'x'), '-b', 'wasm']).done;
    t.is(bad.code, 1);
    t.regex(bad.out, /adalora: .*bert\.encoder/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.serial('a run resumed from its checkpoint continues bit for bit; a checkpoint of another model is refused', async (t) => {
  const full = mkdtempSync(join(tmpdir(), 'adalora-resume-'));
  const part = mkdtempSync(join(tmpdir(), 'adalora-resume-'));
  try {
    t.is((await start(['run', '--workers', '1', '-o', full, ...SHORT, '--set', 'training.checkpointEvery=8']).done).code, 0);
    t.true(existsSync(join(full, 'checkpoint-8/adapter/adapter_config.json')));
    const r = await start(['run', '--workers', '2', '-o', part, ...SHORT, '--resume', join(full, 'checkpoint-8')]).done;
    t.is(r.code, 0, r.out.slice(-2000));
    t.regex(r.out, /resumed from .*checkpoint-8 at step 8/);
    t.deepEqual(stepLosses(part), stepLosses(full).slice(8), 'steps 9..16 as in the uninterrupted run');
    const bad = await start(['run', '--workers', '1', '-o', part, ...SHORT, '--set', 'training.seed=7', '--resume', join(full, 'checkpoint-8')]).done;
    t.is(bad.code, 1);
    t.regex(bad.out, /cannot resume from .*checkpoint-8: it was trained on another base model/);
  } finally {
    rmSync(full, { recursive: true, force: true });
    rmSync(part, { recursive: true, force: true });
  }
});

test.serial('a stopped worker (SIGSTOP) is dropped within its deadline and its share redone; woken, it rejoins; the losses equal a clean run', async (t) => {
  const cleanDir = mkdtempSync(join(tmpdir(), 'adalora-cli-'));
  const dir = mkdtempSync(join(tmpdir(), 'adalora-cli-'));
  const children: ChildProcess[] = [];
  // longer than SHORT, so the woken worker finds the run still going; short deadlines
  const args = [...SHORT, '--set', 'training.maxSteps=48', '--set', 'cluster.stepTimeoutFloorMs=1500', '--set', 'cluster.heartbeatMs=250'];
  try {
    const clean = start(['run', '--workers', '1', '-o', cleanDir, ...args]);
    t.is((await clean.done).code, 0);
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const coord = start(['coordinator', '--port', String(port), '--min-workers', '2', '-o', dir, ...args]);
    const w1 = start(['worker', '--coordinator', url, '--backend', 'wasm', '--id', 'a', '--cache-dir', join(dir, 'model-cache')]);
    const w2 = start(['worker', '--coordinator', url, '--backend', 'wasm', '--id', 'b', '--cache-dir', join(dir, 'model-cache')]);
    children.push(coord.child, w1.child, w2.child);
    await until(() => /step 10\/48/.test(coord.output()), 'step 10');
    w2.child.kill('SIGSTOP');
    const stopped = performance.now();
    // idle, it misses its pings; busy, its request's deadline: either way it is dropped, not refused
    await until(() => /\(b@[^)]*\)(: no reply to| answered nothing)/.test(coord.output()), 'the stopped worker to be dropped', 60_000);
    const droppedMs = performance.now() - stopped;
    t.log(`dropped ${Math.round(droppedMs)} ms after SIGSTOP`);
    t.true(droppedMs < 30_000, `${Math.round(droppedMs)} ms`);
    w2.child.kill('SIGCONT');
    await until(() => /dropped by the coordinator \(closed 4000 COORD_ERR_(DEADLINE|UNRESPONSIVE)\); rejoining/.test(w2.output()), 'the woken worker to rejoin', 120_000);
    const r = await coord.done;
    t.is(r.code, 0, r.out.slice(-2000));
    t.is((r.out.match(/\(b@[^)]*\) ready/g) ?? []).length, 2, 'b was ready again after it woke');
    t.is((await w2.done).code, 0, w2.output().slice(-1000));
    t.notRegex(w2.output(), /refused/);
    t.is((await w1.done).code, 0);
    t.deepEqual(stepLosses(dir), stepLosses(cleanDir), 'same losses as the one-worker run, bit for bit');
  } finally {
    children.forEach((c) => c.exitCode === null && (c.kill('SIGCONT'), c.kill('SIGKILL')));
    rmSync(cleanDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('a share that fails on every worker (an injected fault) ends the run within seconds with the workers\' words; the workers exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-cli-'));
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const coord = start(['coordinator', '--port', String(port), '--min-workers', '2', '-o', dir, ...SHORT]);
    const workers = ['a', 'b'].map((id) => start(['worker', '--coordinator', url, '--backend', 'wasm', '--id', id, '--inject-fault', 'compute', '--cache-dir', join(dir, 'model-cache')]));
    children.push(coord.child, ...workers.map((w) => w.child));
    await until(() => (coord.output().match(/ready \(model loaded/g) ?? []).length === 2, 'both workers ready');
    const readyAt = performance.now();
    const r = await coord.done;
    const ms = performance.now() - readyAt;
    t.log(`run ended ${Math.round(ms)} ms after both workers were ready`);
    t.is(r.code, 1, r.out.slice(-2000));
    t.regex(r.out, /adalora: step 0: micro-batch \d+ failed on (2 different workers|every worker there is), so the data or the model is at fault, not a worker: .*WORKER_ERR_INJECTED: fault injected into compute for step 0/);
    t.true(ms < 15_000, `${Math.round(ms)} ms`);
    for (const w of workers) {
      const ended = await w.done;
      t.is(ended.code, 1, 'a worker with a deterministic fault stops instead of rejoining to fail again');
      t.regex(ended.out, /stopped: WORKER_ERR_INJECTED/);
      t.is((ended.out.match(/loading model/g) ?? []).length, 1, 'it joined once');
    }
  } finally {
    children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  }
});
