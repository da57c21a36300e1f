import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, stepLosses } from '@adalora/test-support';

// The coordinator on its own network host (a namespace made here, behind a veth link, with
// 10 ms delay each way where the kernel has netem), workers on another: what a multi-machine
// run sees, on one machine.
const ROOT = repoRoot();
const CLI = join(ROOT, 'bin/adalora.mjs');
const NS = `adl${process.pid}`;
const NET = `10.213.${process.pid % 250}`;
const HOST = `${NET}.2`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Why the test cannot run here, or null when it can (root, iproute2, namespaces allowed). */
function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  try {
    ip('netns', 'add', NS);
    ip('link', 'add', `${NS}h`, 'type', 'veth', 'peer', 'name', `${NS}c`);
    ip('link', 'set', `${NS}c`, 'netns', NS);
    ip('addr', 'add', `${NET}.1/30`, 'dev', `${NS}h`);
    ip('link', 'set', `${NS}h`, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${HOST}/30`, 'dev', `${NS}c`);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', `${NS}c`, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    return null;
  } catch (e) {
    cleanup();
    return `cannot set up network namespaces here (${(e as Error).message.split('\n')[0]})`;
  }
}

/** Adds 10 ms each way on the link; false where the kernel lacks the netem qdisc. */
function addDelay(): boolean {
  try {
    execFileSync('tc', ['qdisc', 'add', 'dev', `${NS}h`, 'root', 'netem', 'delay', '10ms'], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', NS, 'tc', 'qdisc', 'add', 'dev', `${NS}c`, 'root', 'netem', 'delay', '10ms'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function cleanup(): void {
  try {
    ip('link', 'del', `${NS}h`);
  } catch {
    /* already gone */
  }
  try {
    ip('netns', 'del', NS);
  } catch {
    /* already gone */
  }
}

function run(args: readonly string[], inNamespace: boolean): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
  const cmd = inNamespace ? ['ip', ['netns', 'exec', NS, process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  const child = spawn(cmd[0] as string, cmd[1] as string[], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out }))) };
}

const SHORT = ['--set', 'training.maxSteps=12', '--set', 'training.evalEvery=0', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];

const why = unavailable();
(why ? test.skip : test)(`a coordinator and 2 workers with no model files on different network hosts train the same run as one local worker${why ? ` [skipped: ${why}]` : ''}`, async (t) => {
  t.log(addDelay() ? 'link delay: 10 ms each way (netem)' : 'link delay: none (this kernel has no netem qdisc)');
  const local = mkdtempSync(join(tmpdir(), 'adalora-netns-'));
  const remote = mkdtempSync(join(tmpdir(), 'adalora-netns-'));
  const children: ChildProcess[] = [];
  try {
    t.is((await run(['run', '--workers', '1', '-o', local, ...SHORT], false).done).code, 0);
    // beyond loopback a secret is required; the workers get only the URL and the secret, and
    // fetch the model from the coordinator into a cache folder of their own
    const secret = join(remote, 'secret');
    writeFileSync(secret, 'the secret of the namespace run\n');
    const coordinator = run(['coordinator', '--host', HOST, '--port', '7070', '--min-workers', '2', '--secret-file', secret, '-o', remote, ...SHORT], true);
    children.push(coordinator.child);
    const workers = [0, 1].map((i) =>
      run(['worker', '--coordinator', `ws://${HOST}:7070`, '--backend', 'wasm', '--id', `far-${i}`, '--secret-file', secret, '--cache-dir', join(remote, `cache-${i}`)], false),
    );
    children.push(...workers.map((w) => w.child));
    const r = await coordinator.done;
    t.is(r.code, 0, r.out.slice(-2000));
    t.regex(r.out, new RegExp(`worker 0 \\(far-\\d@${NET.replace(/\./g, '\\.')}\\.1:\\d+\\) joined`));
    for (const w of workers) {
      const done = await w.done;
      t.is(done.code, 0, done.out.slice(-2000));
      t.regex(done.out, /fetched model\.safetensors/, 'the worker fetched the weights from the coordinator');
    }
    t.deepEqual(stepLosses(remote), stepLosses(local), 'same losses bit for bit');
  } finally {
    children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
    rmSync(local, { recursive: true, force: true });
    rmSync(remote, { recursive: true, force: true });
    cleanup();
  }
});
