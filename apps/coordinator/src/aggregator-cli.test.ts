import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startCli, stepLosses, until, type CliProcess } from '@adalora/test-support';

// a short built-in run: 16 steps through warm-up, pruning and the final phase (4 micro-batches a step)
const SHORT = ['--set', 'training.maxSteps=16', '--set', 'training.evalEvery=0', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'adalora-aggregator-'));
  dirs.push(d);
  return d;
};
test.after.always(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The reference: the same run on one plain worker, made once for both tests. */
let reference: Promise<{ readonly dir: string; readonly out: string }> | null = null;
const oneWorkerRun = () =>
  (reference ??= (async () => {
    const dir = tempDir();
    const r = await startCli(['run', '--workers', '1', '-o', dir, ...SHORT]).done;
    if (r.code !== 0) throw new Error(`the one-worker run failed: ${r.out.slice(-2000)}`);
    return { dir, out: r.out };
  })());

const adapterBytes = (dir: string) => readFileSync(join(dir, 'final/adapter/adapter_model.safetensors'));
const finalDev = (out: string) => /final dev .*/.exec(out)?.[0];

/**
 * A coordinator with `groups.length` aggregators, `groups[i]` workers under aggregator i; all
 * fetch the model over the network (the aggregators from the coordinator, the workers from
 * their aggregator).
 */
async function startTiered(dir: string, groups: readonly number[], children: ChildProcess[]) {
  const port = await freePort();
  const coord = startCli(['coordinator', '--port', String(port), '--min-workers', String(groups.length), '-o', join(dir, 'out'), ...SHORT]);
  children.push(coord.child);
  const aggregators: CliProcess[] = [];
  const workers: CliProcess[][] = [];
  for (const [g, count] of groups.entries()) {
    const aggPort = await freePort();
    // --min-workers: the whole group computes from the first step (a run of 16 short steps may end before a late worker joins)
    const agg = startCli(['aggregator', '--coordinator', `ws://127.0.0.1:${port}`, '--port', String(aggPort), '--id', `agg${g}`, '--cache-dir', join(dir, `cache-agg${g}`), '--min-workers', String(count)]);
    const ws = Array.from({ length: count }, (_, i) =>
      startCli(['worker', '--coordinator', `ws://127.0.0.1:${aggPort}`, '--backend', 'wasm', '--id', `g${g}w${i}`, '--cache-dir', join(dir, `cache-g${g}w${i}`)]),
    );
    children.push(agg.child, ...ws.map((w) => w.child));
    aggregators.push(agg);
    workers.push(ws);
  }
  return { coord, aggregators, workers };
}

// Seven processes, and the one-worker reference first: 2.5 min alone, 4 min on a 2-core machine at load 25
const PATIENCE_MS = 15 * 60_000;

test.serial('2 aggregators × 2 workers give the one-worker run bit for bit: losses, final adapter, final eval', async (t) => {
  t.timeout(PATIENCE_MS, 'the tiered run did not finish');
  const dir = tempDir();
  const children: ChildProcess[] = [];
  try {
    const { coord, aggregators, workers } = await startTiered(dir, [2, 2], children);
    const r = await coord.done;
    t.is(r.code, 0, r.out.slice(-2000));
    // the coordinator saw two workers, the aggregators; each aggregator saw its two
    t.is((r.out.match(/ready \(model loaded/g) ?? []).length, 2);
    for (const a of aggregators) {
      const ended = await a.done;
      t.is(ended.code, 0, ended.out.slice(-2000));
      t.is((ended.out.match(/ready \(model loaded/g) ?? []).length, 2, ended.out.slice(-2000));
    }
    for (const w of workers.flat()) t.is((await w.done).code, 0, 'shut down cleanly by its aggregator');
    const ref = await oneWorkerRun();
    t.is(stepLosses(join(dir, 'out')).length, 16);
    t.deepEqual(stepLosses(join(dir, 'out')), stepLosses(ref.dir), 'same losses, bit for bit');
    t.deepEqual(adapterBytes(join(dir, 'out')), adapterBytes(ref.dir), 'same final adapter, byte for byte');
    t.is(finalDev(r.out), finalDev(ref.out), 'same final dev metrics (evaluation through the aggregators)');
  } finally {
    children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  }
});

test.serial('a worker killed (SIGKILL) under an aggregator mid-run changes nothing: its group redoes its share, the coordinator never sees it', async (t) => {
  t.timeout(PATIENCE_MS, 'the run with a killed worker did not finish');
  const dir = tempDir();
  const children: ChildProcess[] = [];
  try {
    const { coord, aggregators, workers } = await startTiered(dir, [2], children);
    await until(() => /step 10\/16/.test(coord.output()), 'step 10', PATIENCE_MS / 2);
    workers[0][1].child.kill('SIGKILL');
    const r = await coord.done;
    t.is(r.code, 0, r.out.slice(-2000));
    const agg = await aggregators[0].done;
    t.is(agg.code, 0, agg.out.slice(-2000));
    t.regex(agg.out, /\(g0w1@[^)]*\) disconnected/, 'the aggregator lost its worker');
    t.regex(agg.out, /waiting for 2 workers in this group|2 worker\(s\) ready/, 'the group was whole before its first share');
    // killed while computing (the usual case: the kill follows the log of a finished step) or between two steps
    t.log(/redistributing in this group/.test(agg.out) ? 'the killed worker\'s share was redone in its group' : 'the worker was killed between two requests');
    t.notRegex(r.out, /disconnected|failed|redistributing|no live worker/, 'the coordinator saw nothing of it');
    t.is((await workers[0][0].done).code, 0);
    t.deepEqual(stepLosses(join(dir, 'out')), stepLosses((await oneWorkerRun()).dir), 'same losses as the one-worker run, bit for bit');
  } finally {
    children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  }
});
