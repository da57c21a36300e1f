import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { repoRoot, stepLosses } from '@adalora/test-support';

const ROOT = repoRoot();
const CLI = join(ROOT, 'bin/adalora.mjs');
// a short built-in run, as in cli.test.ts
const SHORT = ['--set', 'training.maxSteps=16', '--set', 'training.evalEvery=0', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];

function start(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; done: Promise<{ code: number | null; out: string; at: number }>; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<{ code: number | null; out: string; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, out, at: Date.now() })));
  return { child, done, output: () => out };
}

async function until(pred: () => boolean, what: string, ms = 240_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test.serial('the coordinator exits promptly at the end of a run with a half-sent HTTP request and an idle WebSocket open', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'adalora-exit-'));
  const open: (Socket | WebSocket)[] = [];
  try {
    // a long handshake deadline, so that only closing (not the deadline) can end these connections
    const run = start(['run', '--workers', '1', '-o', out, '--set', 'cluster.handshakeTimeoutMs=600000', ...SHORT]);
    await until(() => /on ws:\/\/127\.0\.0\.1:\d+/.test(run.output()), 'the coordinator to listen');
    const port = Number(/on ws:\/\/127\.0\.0\.1:(\d+)/.exec(run.output())![1]);
    const half = connect(port, '127.0.0.1', () => half.write('GET /adalora/model-files/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
    half.on('error', () => {});
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.on('error', () => {});
    open.push(half, ws);
    let savedAt = 0;
    await until(() => {
      if (!savedAt && /saved the final adapter/.test(run.output())) savedAt = Date.now();
      return savedAt > 0;
    }, 'the end of the run', 240_000);
    const r = await run.done;
    t.is(r.code, 0, r.out.slice(-2000));
    t.is(stepLosses(out).length, 16);
    const lingered = (r.at - savedAt) / 1000;
    t.true(lingered < 5, `the process lingered ${lingered.toFixed(1)} s after the run ended`);
    t.log(`exited ${lingered.toFixed(2)} s after saving the final adapter`);
  } finally {
    for (const c of open) c instanceof WebSocket ? c.terminate() : c.destroy();
    rmSync(out, { recursive: true, force: true });
  }
});

test.serial('without a secret the coordinator listens on loopback only; another address needs a secret or --insecure', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'adalora-listen-'));
  try {
    const env = { ...process.env, ADALORA_SECRET: '' };
    const refused = await start(['coordinator', '--host', '0.0.0.0', '--port', '0', '-o', out, ...SHORT], env).done;
    t.is(refused.code, 1);
    t.regex(refused.out, /cluster\.host 0\.0\.0\.0 is reachable from other machines: set a run secret/);
    t.notRegex(refused.out, /loading|model bert/i, 'refused before any model was loaded');

    // each coordinator its own output folder: one that ran leaves a run's outputs, which the next would refuse
    const insecure = start(['coordinator', '--host', '0.0.0.0', '--port', '0', '--insecure', '-o', join(out, 'insecure'), ...SHORT], env);
    await until(() => /WARNING: --insecure/.test(insecure.output()), 'the warning');
    insecure.child.kill('SIGINT');
    await insecure.done;
    t.pass();

    const secretFile = join(out, 'secret');
    writeFileSync(secretFile, 'a secret shared by coordinator and workers\n');
    const secret = start(['coordinator', '--host', '0.0.0.0', '--port', '0', '--secret-file', secretFile, '-o', join(out, 'secret-run'), ...SHORT], env);
    await until(() => /waiting for 1 worker/.test(secret.output()), 'the coordinator to listen');
    t.notRegex(secret.output(), /WARNING/);
    secret.child.kill('SIGINT');
    await secret.done;

    const short = await start(['coordinator', '--port', '0', '-o', join(out, 'short'), ...SHORT], { ...env, ADALORA_SECRET: 'short' }).done;
    t.is(short.code, 1);
    t.regex(short.out, /ADALORA_SECRET: the run secret must be at least 16 bytes/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
