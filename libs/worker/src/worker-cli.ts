import { Command, InvalidArgumentError, Option } from 'commander';
import { hostname } from 'node:os';
import { loadBackend, parseBackendChoice } from '@adalora/backend';
import { runWorkerClient } from './worker-client';

const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

function workerProgram(): Command {
  return new Command('adalora worker')
    .description('A training worker: holds the frozen base model and computes gradient sums for the coordinator.')
    .option('-c, --coordinator <url>', 'coordinator address', 'ws://127.0.0.1:7070')
    .option('-b, --backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu', 'auto')
    .option('--id <id>', 'worker id, stable across reconnects', `${hostname()}-${process.pid}`)
    .option('--model <dir>', "local copy of the base model (its hash must match the run's); default: the path the coordinator names")
    .option('--retries <n>', 'connection attempts in a row before giving up', integer(0), 30)
    .option('--quiet', 'log only faults')
    // testing only, and hidden: fails every compute request, as a worker that cannot compute would
    .addOption(new Option('--inject-fault <where>', 'testing: fail every request of this kind').choices(['compute']).hideHelp())
    .action(async (opts: { coordinator: string; backend: string; id: string; model?: string; retries: number; quiet?: boolean; injectFault?: 'compute' }) => {
      const log = (line: string) => console.log(`${new Date().toISOString()} worker ${opts.id}: ${line}`);
      const info = opts.quiet ? () => {} : log;
      const report = await loadBackend(parseBackendChoice(opts.backend), { log: info });
      const exit = await runWorkerClient({
        url: opts.coordinator,
        workerId: opts.id,
        backend: report.name,
        modelDir: opts.model,
        injectFault: opts.injectFault,
        maxRetries: opts.retries,
        initialDelayMs: 250,
        maxDelayMs: 10_000,
        log: info,
      });
      if (!exit.ok) {
        log(`stopped: ${exit.reason}`);
        process.exitCode = 1;
      } else info(`done: ${exit.reason}`);
    });
}

/**
 * The `adalora worker` command on `argv` (node's form: the first two entries are skipped): parses
 * the options, loads the backend and runs the client until the coordinator ends the run. Sets
 * `process.exitCode` to 1 when the worker stopped on a fault.
 */
export async function runWorkerCli(argv: readonly string[]): Promise<void> {
  try {
    await workerProgram().parseAsync([...argv]);
  } catch (e) {
    console.error(`adalora worker: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
