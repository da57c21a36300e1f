import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { loadBackend, parseBackendChoice } from '@adalora/backend';
import { readRunSecret } from '@adalora/protocol';
import { defaultCacheDir } from './model-cache';
import { isSha256Fingerprint, type WorkerTls } from './tls-client';
import { runWorkerClient } from './worker-client';

interface WorkerFlags {
  coordinator: string;
  backend: string;
  id: string;
  model?: string;
  cacheDir?: string;
  secretFile?: string;
  tlsCa?: string;
  tlsFingerprint?: string;
  retries: number;
  quiet?: boolean;
}

/** The CA or pinned fingerprint to trust for wss, checked before anything connects. */
function workerTls(opts: WorkerFlags): WorkerTls | undefined {
  if (opts.tlsCa !== undefined && opts.tlsFingerprint !== undefined) throw new Error('--tls-ca and --tls-fingerprint: give one of them');
  if (opts.tlsFingerprint !== undefined) {
    if (!isSha256Fingerprint(opts.tlsFingerprint)) throw new Error(`--tls-fingerprint: expected a SHA-256 fingerprint (64 hex digits, colons allowed), got ${opts.tlsFingerprint.length} chars`);
    return { fingerprint: opts.tlsFingerprint };
  }
  if (opts.tlsCa === undefined) return undefined;
  try {
    return { ca: readFileSync(opts.tlsCa) };
  } catch (e) {
    throw new Error(`--tls-ca ${opts.tlsCa}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

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
    .option('--model <dir>', "local copy of the base model (its hash must match the run's); default: fetched from the coordinator into --cache-dir")
    .option('--cache-dir <dir>', `where fetched model files are kept, by hash (default ${defaultCacheDir()})`)
    .option('--secret-file <file>', 'file holding the run secret (else the ADALORA_SECRET environment variable)')
    .option('--tls-ca <file>', 'for wss: CA certificate (PEM) to trust for the coordinator')
    .option('--tls-fingerprint <sha256>', "for wss: trust only the coordinator certificate with this SHA-256 fingerprint (e.g. a self-signed one)")
    .option('--retries <n>', 'connection attempts in a row before giving up', integer(0), 30)
    .option('--quiet', 'log only faults')
    .action(async (opts: WorkerFlags) => {
      // options that can be wrong are checked before the backend loads
      const secret = readRunSecret(opts.secretFile, process.env);
      const tls = workerTls(opts);
      const log = (line: string) => console.log(`${new Date().toISOString()} worker ${opts.id}: ${line}`);
      const info = opts.quiet ? () => {} : log;
      const report = await loadBackend(parseBackendChoice(opts.backend), { log: info });
      const exit = await runWorkerClient({
        url: opts.coordinator,
        workerId: opts.id,
        backend: report.name,
        modelDir: opts.model,
        secret,
        ...(tls && { tls }),
        ...(opts.cacheDir !== undefined && { cacheDir: opts.cacheDir }),
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
