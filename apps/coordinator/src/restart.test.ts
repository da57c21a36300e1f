import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, type PathLike } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startCli, stepLosses, until, type CliProcess } from '@adalora/test-support';

// a short built-in run with a checkpoint every 4 steps: long enough to be stopped twice
const STEPS = 24;
const JOB = ['--set', `training.maxSteps=${STEPS}`, '--set', 'training.evalEvery=0', '--set', 'training.checkpointEvery=4', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];
const ADAPTER = 'final/adapter/adapter_model.safetensors';

const dirs: string[] = [];
const children: CliProcess[] = [];
test.after.always(() => {
  children.forEach((c) => c.child.exitCode === null && c.child.kill('SIGKILL'));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'adalora-restart-'));
  dirs.push(d);
  return d;
};
const complete = (dir: string, step: number) => existsSync(join(dir, `checkpoint-${step}`, 'manifest.json'));
const bytes = (p: PathLike) => readFileSync(p);

test.serial('SIGTERM saves a checkpoint, SIGKILL loses only the steps after the last one; `--resume latest` with the same workers, reconnecting by themselves, ends as an uninterrupted run', async (t) => {
  const clean = tempDir();
  const cleanRun = await startCli(['run', '--workers', '1', '-o', clean, ...JOB]).done;
  t.is(cleanRun.code, 0, cleanRun.out.slice(-2000));

  const dir = tempDir();
  // a folder an interrupted checkpoint write left behind: removed (and logged) at the first save
  mkdirSync(join(dir, 'checkpoint-2.tmp-4242'), { recursive: true });
  writeFileSync(join(dir, 'checkpoint-2.tmp-4242', 'adapter_model.safetensors'), 'partial');
  const url = `ws://127.0.0.1:${await freePort()}`;
  const port = url.split(':').at(-1)!;
  const coordinator = (extra: string[] = []) => {
    const c = startCli(['coordinator', '--port', port, '--min-workers', '2', '-o', dir, ...JOB, ...extra]);
    children.push(c);
    return c;
  };
  const workers = ['a', 'b'].map((id) => startCli(['worker', '--coordinator', url, '--backend', 'wasm', '--id', id, '--cache-dir', join(dir, 'model-cache')]));
  children.push(...workers);

  const first = coordinator();
  await until(() => complete(dir, 4), 'checkpoint-4');
  first.child.kill('SIGTERM');
  const stopped = await first.done;
  t.is(stopped.code, 143, stopped.out.slice(-2000));
  t.regex(stopped.out, /removed .*checkpoint-2\.tmp-4242, left by an interrupted checkpoint write/);
  t.false(existsSync(join(dir, 'checkpoint-2.tmp-4242')));
  const saved = /interrupted after step (\d+): saved (\S+)/.exec(stopped.out);
  t.truthy(saved, stopped.out.slice(-2000));
  const termStep = Number(saved![1]);
  t.true(complete(dir, termStep), `checkpoint-${termStep} written whole`);

  const second = coordinator(['--resume', 'latest']);
  await until(() => /resumed from/.test(second.output()), 'the second coordinator to resume');
  t.regex(second.output(), new RegExp(`resumed from .*checkpoint-${termStep} at step ${termStep}`));
  const next = (Math.floor(termStep / 4) + 1) * 4;
  await until(() => complete(dir, next), `checkpoint-${next}`);
  second.child.kill('SIGKILL');
  t.is((await second.done).signal, 'SIGKILL');

  const third = coordinator(['--resume', 'latest']);
  const finished = await third.done;
  t.is(finished.code, 0, finished.out.slice(-2000));
  t.regex(finished.out, /resumed from .*checkpoint-\d+ at step \d+/);
  for (const w of workers) t.is((await w.done).code, 0, 'each worker stayed up across both restarts and was shut down at the end');
  t.true(workers.every((w) => /retrying/.test(w.output())), 'the workers reconnected by themselves');

  t.deepEqual(stepLosses(dir), stepLosses(clean), 'metrics.jsonl: the losses of the uninterrupted run, each step once');
  t.true(bytes(join(dir, ADAPTER)).equals(bytes(join(clean, ADAPTER))), 'the same final adapter, byte for byte');
});

test.serial('a truncated and a tampered checkpoint are reported and skipped by `--resume latest`; `--resume` of the tampered one fails naming the file', async (t) => {
  const dir = tempDir();
  const run = await startCli(['run', '--workers', '1', '-o', dir, ...JOB]).done;
  t.is(run.code, 0, run.out.slice(-2000));
  const losses = stepLosses(dir);
  const adapter = bytes(join(dir, ADAPTER));

  const finalAdapter = join(dir, ADAPTER);
  truncateSync(finalAdapter, adapter.length - 100);
  const tampered = join(dir, 'checkpoint-20', 'trainer_state.safetensors');
  const state = bytes(tampered);
  state[state.length - 5] ^= 1;
  writeFileSync(tampered, state);

  const explicit = await startCli(['run', '--workers', '1', '-o', dir, ...JOB, '--resume', join(dir, 'checkpoint-20')]).done;
  t.is(explicit.code, 1);
  t.regex(explicit.out, /cannot resume from .*checkpoint-20: trainer_state\.safetensors: SHA-256 \w+… differs from the manifest's \w+… \(the file was changed\)/);

  const latest = await startCli(['run', '--workers', '1', '-o', dir, ...JOB, '--resume', 'latest']).done;
  t.is(latest.code, 0, latest.out.slice(-2000));
  t.regex(latest.out, new RegExp(`not resuming from .*final: adapter/adapter_model\\.safetensors: ${adapter.length - 100} bytes, the manifest says ${adapter.length} \\(truncated\\)`));
  t.regex(latest.out, /not resuming from .*checkpoint-20: trainer_state\.safetensors: SHA-256/);
  t.regex(latest.out, /resumed from .*checkpoint-16 at step 16/);
  t.deepEqual(stepLosses(dir), losses);
  t.true(bytes(finalAdapter).equals(adapter));
});
