import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** This lib's entry module, run by tsx (there is no build step). */
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/**
 * Starts a worker as a child process of this one, with the options of `adalora worker` (e.g.
 * `['--coordinator', url, '--backend', 'wasm', '--id', 'local-0']`). Its stdout and stderr are
 * pipes for the caller to read.
 */
export function spawnWorkerProcess(args: readonly string[]): ChildProcess {
  // resolved on use, not at import: every worker process loads this module too and needs none
  const tsx = import.meta.resolve('tsx');
  return spawn(process.execPath, ['--import', tsx, WORKER_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
