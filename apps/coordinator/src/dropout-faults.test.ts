import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '@adalora/core';
import { mergeConfig, RANK_RECOVERY_DEFAULTS } from '@adalora/config';
import { createRankRecoveryTask } from '@adalora/training';
import { freePort, startCli, stepLosses, until, type CliProcess } from '@adalora/test-support';

// The process faults of cli.test.ts and restart.test.ts (run there at dropout 0), at dropout 0.1
// everywhere a real checkpoint has it: embeddings, attention and hidden outputs (the model's
// config.json) and the adapters' input (lora_dropout). Faults come at seeded random steps.
const STEPS = 24;
const ADAPTER = 'final/adapter/adapter_model.safetensors';
const FAST = ['--backend', 'wasm', '--no-progress', '--set', 'cluster.stepTimeoutFloorMs=1500', '--set', 'cluster.heartbeatMs=250'];

let dir: string;
let configFile: string;
let clean: { losses: number[]; adapter: Buffer };
const children: CliProcess[] = [];

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adalora-dropout-faults-'));
  const task = await createRankRecoveryTask(join(dir, 'task'), 1234, { train: 256, dev: 32 });
  const modelConfig = join(task.modelDir, 'config.json');
  writeFileSync(modelConfig, JSON.stringify({ ...JSON.parse(readFileSync(modelConfig, 'utf8')), hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }));
  configFile = join(dir, 'job.json');
  const config = mergeConfig(RANK_RECOVERY_DEFAULTS, {
    model: task.modelDir,
    data: { train: task.trainFile, dev: task.devFile },
    training: { maxSteps: STEPS, evalEvery: 0, checkpointEvery: 4 },
    adalora: { tinit: 2, tfinal: 4, deltaT: 2, lora_dropout: 0.1 },
  });
  writeFileSync(configFile, JSON.stringify(config));
  const out = join(dir, 'clean');
  const r = await startCli(['run', '--workers', '1', '-c', configFile, '-o', out, ...FAST]).done;
  if (r.code !== 0) throw new Error(`the clean run failed: ${r.out.slice(-2000)}`);
  clean = { losses: stepLosses(out), adapter: readFileSync(join(out, ADAPTER)) };
});

test.after.always(() => {
  children.forEach((c) => c.child.exitCode === null && (c.child.kill('SIGCONT'), c.child.kill('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

/** The run's seed for its fault points, printed so that a failure can be replayed (FAULT_SEED). */
function faultPoints(t: { log: (...v: unknown[]) => void }): (lo: number, hi: number) => number {
  const seed = Number(process.env.FAULT_SEED ?? Date.now() % 2 ** 32);
  t.log(`fault seed ${seed} (FAULT_SEED=${seed} replays the same fault steps)`);
  const bits = mulberry32(seed);
  return (lo, hi) => lo + (bits() % (hi - lo + 1));
}

function cluster(name: string) {
  const out = join(dir, name);
  const port = freePort();
  const start = (args: string[]) => {
    const c = startCli(args);
    children.push(c);
    return c;
  };
  const url = async () => `ws://127.0.0.1:${await port}`;
  return {
    out,
    coordinator: async (extra: string[] = []) => start(['coordinator', '--port', String(await port), '--min-workers', '2', '-c', configFile, '-o', out, ...FAST, ...extra]),
    worker: async (id: string) => start(['worker', '--coordinator', await url(), '--backend', 'wasm', '--id', id, '--cache-dir', join(out, 'model-cache')]),
  };
}

/** Steps done by the run writing to `out` (metrics.jsonl; the log names only every tenth step). */
function stepsDone(out: string): number {
  try {
    return stepLosses(out).length;
  } catch {
    return 0; // not written yet, or a line half written
  }
}

/** `until`, whose time-out shows what the coordinator printed. */
async function waitFor(coord: CliProcess, pred: () => boolean, what: string, ms?: number): Promise<void> {
  try {
    await until(pred, what, ms);
  } catch (e) {
    throw new Error(`${(e as Error).message}; the coordinator printed:\n${coord.output().slice(-3000)}`);
  }
}

function sameAsClean(t: { deepEqual: (a: unknown, b: unknown, m: string) => void; true: (v: boolean, m: string) => void }, out: string) {
  t.deepEqual(stepLosses(out), clean.losses, 'metrics.jsonl: the losses of the run without faults, bit for bit');
  t.true(readFileSync(join(out, ADAPTER)).equals(clean.adapter), 'the same final adapter, byte for byte');
}

test.serial('at dropout 0.1: a worker SIGKILLed, another joining mid-run and then SIGSTOPped, all at random steps: the losses and final adapter equal the run without faults', async (t) => {
  const at = faultPoints(t);
  // c starts early enough to be ready (a new process: some steps) with room left to stop it
  const join_ = at(1, 3);
  const kill = at(2, 7);
  t.log(`c joins after step ${join_}; SIGKILL b after step ${kill}`);
  const c = cluster('workers');
  const coord = await c.coordinator();
  const [, b] = [await c.worker('a'), await c.worker('b')];
  let late: CliProcess | undefined;
  const faults = [
    { step: join_, act: async () => void (late = await c.worker('c')) },
    { step: kill, act: async () => void b.child.kill('SIGKILL') },
  ].sort((x, y) => x.step - y.step);
  for (const f of faults) {
    await waitFor(coord, () => stepsDone(c.out) >= f.step, `step ${f.step}`);
    await f.act();
  }
  await waitFor(coord, () => /\(c@[^)]*\) ready/.test(coord.output()), 'c to be ready');
  const readyAfter = stepsDone(c.out);
  const stop = at(readyAfter + 1, readyAfter + 3);
  t.log(`c ready after step ${readyAfter}; SIGSTOP c after step ${stop}`);
  t.true(stop < STEPS - 2, 'the faults fit in the run');
  await waitFor(coord, () => stepsDone(c.out) >= stop, `step ${stop}`);
  late!.child.kill('SIGSTOP');
  await waitFor(coord, () => /\(c@[^)]*\)(: no reply to| answered nothing)/.test(coord.output()), 'the stopped worker to be dropped', 120_000);
  late!.child.kill('SIGCONT');
  const r = await coord.done;
  t.is(r.code, 0, r.out.slice(-2000));
  t.regex(r.out, /redistributing/, 'a share was recomputed by the others');
  sameAsClean(t, c.out);
});

test.serial('at dropout 0.1: the coordinator SIGKILLed at a random step, then `--resume latest` with the same workers reconnecting by themselves, ends as the run without faults', async (t) => {
  const at = faultPoints(t);
  const kill = at(5, 18);
  const c = cluster('restart');
  const first = await c.coordinator();
  const workers = [await c.worker('a'), await c.worker('b')];
  await waitFor(first, () => stepsDone(c.out) >= kill, `step ${kill}`);
  first.child.kill('SIGKILL');
  t.is((await first.done).signal, 'SIGKILL');
  t.log(`SIGKILL the coordinator after step ${kill}`);
  const second = await c.coordinator(['--resume', 'latest']);
  const r = await second.done;
  t.is(r.code, 0, r.out.slice(-2000));
  const resumed = /resumed from .*checkpoint-(\d+) at step (\d+)/.exec(r.out);
  t.truthy(resumed, r.out.slice(-2000));
  t.log(`resumed at step ${resumed?.[2]}`);
  for (const w of workers) t.is((await w.done).code, 0, 'each worker stayed up across the restart and was shut down at the end');
  t.true(workers.every((w) => /retrying/.test(w.output())), 'the workers reconnected by themselves');
  sameAsClean(t, c.out);
});
