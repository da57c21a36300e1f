import test from 'ava';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '@adalora/test-support';

const root = repoRoot();

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the worker CLI as a real process (tsx, from the repo root); killed if it outlives `limitMs`. */
// generous: the worker CLI loads tfjs, which takes several seconds on a busy 2-core machine
function runWorker(args: readonly string[], limitMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== null) reject(new Error(`worker CLI ${args.join(' ')}: killed by ${signal} after ${limitMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** A loopback port nobody listens on (bound by the OS, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

test('--help exits 0 and lists the options', async (t) => {
  const r = await runWorker(['--help']);
  t.is(r.code, 0, r.stderr);
  for (const option of ['--coordinator', '--backend', '--model', '--retries', '--give-up-after', '--id', '--quiet']) t.true(r.stdout.includes(option), `${option} in:\n${r.stdout}`);
  t.false(r.stdout.includes('--inject-fault'), 'the testing-only fault injection is not offered');
});

test('--retries -1 and --retries abc exit non-zero naming the option', async (t) => {
  const [negative, word] = await Promise.all([runWorker(['--retries', '-1']), runWorker(['--retries', 'abc'])]);
  for (const [r, value] of [[negative, '-1'], [word, 'abc']] as const) {
    t.not(r.code, 0);
    t.regex(r.stderr, /--retries/);
    t.true(r.stderr.includes(`'${value}'`), r.stderr);
    t.regex(r.stderr, /expected an integer >= 0/);
  }
});

test('an unknown --backend exits 1 naming the valid ones, before any backend is loaded', async (t) => {
  const r = await runWorker(['--backend', 'gpu', '--retries', '0']);
  t.is(r.code, 1, r.stdout);
  t.true(r.stderr.includes("adalora worker: backend 'gpu' is not valid (expected one of: auto, tensorflow, wasm, cpu)"), r.stderr);
  t.notRegex(r.stdout, /backend/);
});

test('an unreachable coordinator with --retries 0 exits 1 saying so', async (t) => {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const r = await runWorker(['--coordinator', url, '--retries', '0', '--backend', 'cpu', '--id', 'boundary-test']);
  t.is(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const output = r.stdout + r.stderr;
  t.regex(output, /unreachable/);
  t.true(output.includes(url), output);
  t.true(output.includes('worker boundary-test'), output);
});

test('without --retries a worker keeps trying until --give-up-after has passed, then exits 1 saying so', async (t) => {
  const url = `ws://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  const r = await runWorker(['--coordinator', url, '--give-up-after', '2s', '--backend', 'cpu', '--id', 'patient'], 40_000);
  const output = r.stdout + r.stderr;
  t.is(r.code, 1, output);
  t.true((output.match(/retrying in/g) ?? []).length >= 3, output);
  t.regex(output, /out of reach for [23] s, giving up/);
  t.true(Date.now() - started >= 2000);
  const bad = await runWorker(['--give-up-after', 'soon']);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /--give-up-after/);
  t.regex(bad.stderr, /expected a duration such as 90s, 10m or 1h, got 'soon'/);
});

test('--connections and --sample-ms go with --synthetic; a synthetic worker loads no backend', async (t) => {
  const port = await freePort();
  const [plain, synthetic] = await Promise.all([
    runWorker(['--connections', '2', '--retries', '0']),
    runWorker(['--synthetic', '--connections', '2', '--sample-ms', '1', '--coordinator', `ws://127.0.0.1:${port}`, '--retries', '0']),
  ]);
  t.is(plain.code, 1);
  t.true(plain.stderr.includes('--connections and --sample-ms go with --synthetic'), plain.stderr);
  t.is(synthetic.code, 1, synthetic.stdout);
  t.regex(synthetic.stdout, /2 synthetic worker\(s\) failed \(coordinator at ws:\/\/127\.0\.0\.1:\d+ unreachable after 0 retries/);
  t.notRegex(synthetic.stdout, /backend:/, 'no tfjs backend loaded');
});
