import type { ChildProcess } from 'node:child_process';
import { spawnWorkerProcess } from '@adalora/worker';

export interface LocalWorkerOptions {
  readonly count: number;
  readonly coordinatorUrl: string;
  readonly backend: string;
  /** forwarded to every worker (e.g. --quiet) */
  readonly extraArgs?: readonly string[];
  readonly log: (line: string) => void;
}

/**
 * Starts N workers as child processes of this one (the `run` command); their output is
 * prefixed with their index. They exit when the coordinator ends the run; when it goes away
 * without ending it they wait for it to come back, so an interrupted `run` stops them itself.
 */
export function startLocalWorkers(o: LocalWorkerOptions): ChildProcess[] {
  return Array.from({ length: o.count }, (_, i) => {
    const child = spawnWorkerProcess(['--coordinator', o.coordinatorUrl, '--backend', o.backend, '--id', `local-${i}`, ...(o.extraArgs ?? [])]);
    const prefix = (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter((l) => l.trim())
        .forEach((l) => o.log(`[worker ${i}] ${l}`));
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    return child;
  });
}

/** Waits for children to exit; kills those still running after `graceMs`. */
export async function stopLocalWorkers(children: readonly ChildProcess[], graceMs = 5000): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
}
