import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './fixture-paths';

/** How a CLI process ended: its exit code (null when killed by a signal) and all it printed. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
}

/** A running `bin/adalora.mjs` process: its output so far, and its end. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly done: Promise<CliExit>;
  output(): string;
}

/**
 * Starts the `adalora` CLI with `args` (from the repo root, or from `cwd`), stdout and stderr
 * collected together; `env` is added to this process's environment.
 */
export function startCli(args: readonly string[], cwd = repoRoot(), env: Readonly<Record<string, string>> = {}): CliProcess {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin/adalora.mjs'), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<CliExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
  return { child, done, output: () => out };
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `pred` every 50 ms; throws naming `what` after `ms` (generous: CI is a loaded 2-core machine, and this bounds a hang, not a speed). */
export async function until(pred: () => boolean, what: string, ms = 240_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
