// Only light modules are imported up front, so that a bad flag is refused, and `--help`
// printed, without loading TensorFlow.js: the backend and the client are imported after.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseBackendChoice } from '@adalora/config';
import { readRunSecret } from '@adalora/protocol';
import { defaultCacheDir } from './model-cache';
import { isSha256Fingerprint, type WorkerTls } from './tls-client';

interface WorkerFlags {
  coordinator: string;
  backend: string;
  id: string;
  model?: string;
  cacheDir?: string;
  secretFile?: string;
  tlsCa?: string;
  tlsFingerprint?: string;
  retries?: number;
  giveUpAfter: number;
  quiet?: boolean;
  injectFault?: 'compute';
  synthetic?: boolean;
  connections: number;
  sampleMs: number;
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

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** '90s', '10m', '1.5h', '500ms'; a bare number is seconds. */
function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`expected a duration such as 90s, 10m or 1h, got '${v}'`);
  return Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
}

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
    .option('--retries <n>', 'failed connection attempts in a row before giving up (default: no limit, see --give-up-after)', integer(0))
    .option('--give-up-after <duration>', 'give up once the coordinator has been out of reach this long, e.g. 90s, 10m, 1h', parseDuration, parseDuration('10m'))
    .option('--quiet', 'log only faults')
    .option('--synthetic', 'a synthetic worker: no model, no tfjs; answers with deterministic gradients of the run\'s names, shapes and wire dtype after --sample-ms per sample (for measuring the coordinator, see "Scaling")')
    .option('--connections <k>', 'with --synthetic: this many synthetic workers in this process, each on its own connection', integer(1), 1)
    .option('--sample-ms <ms>', 'with --synthetic: compute time per sample, standing in for a GPU (default 0)', nonNegative, 0)
    // testing only, and hidden: fails every compute request, as a worker that cannot compute would
    .addOption(new Option('--inject-fault <where>', 'testing: fail every request of this kind').choices(['compute']).hideHelp())
    .action(async (opts: WorkerFlags) => {
      // options that can be wrong are checked before the backend loads
      const secret = readRunSecret(opts.secretFile, process.env);
      const tls = workerTls(opts);
      const log = (line: string) => console.log(`${new Date().toISOString()} worker ${opts.id}: ${line}`);
      const info = opts.quiet ? () => {} : log;
      if (!opts.synthetic && (opts.connections !== 1 || opts.sampleMs !== 0)) throw new Error('--connections and --sample-ms go with --synthetic');
      if (opts.synthetic) return runSynthetic(opts, secret, tls, info, log);
      const backend = parseBackendChoice(opts.backend);
      const [{ loadBackend }, { runWorkerClient }] = await Promise.all([import('@adalora/backend'), import('./worker-client')]);
      const report = await loadBackend(backend, { log: info });
      const exit = await runWorkerClient({
        url: opts.coordinator,
        workerId: opts.id,
        backend: report.name,
        modelDir: opts.model,
        secret,
        ...(tls && { tls }),
        ...(opts.cacheDir !== undefined && { cacheDir: opts.cacheDir }),
        injectFault: opts.injectFault,
        maxRetries: opts.retries,
        giveUpAfterMs: opts.giveUpAfter,
        initialDelayMs: 250,
        // bounded: a restarted coordinator is found within this long of listening again
        maxDelayMs: 5_000,
        log: info,
      });
      if (!exit.ok) {
        log(`stopped: ${exit.reason}`);
        process.exitCode = 1;
      } else info(`done: ${exit.reason}`);
    });
}

const nonNegative = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
};

/** `adalora worker --synthetic`: K synthetic connections in this process; tfjs is never loaded. */
async function runSynthetic(opts: WorkerFlags, secret: Uint8Array | null, tls: WorkerTls | undefined, info: (line: string) => void, log: (line: string) => void): Promise<void> {
  const { runSyntheticWorkers } = await import('./synthetic-workers');
  const exits = await runSyntheticWorkers({
    url: opts.coordinator,
    connections: opts.connections,
    sampleMs: opts.sampleMs,
    idPrefix: opts.id,
    secret,
    ...(tls && { tls }),
    maxRetries: opts.retries,
    giveUpAfterMs: opts.giveUpAfter,
    initialDelayMs: 250,
    maxDelayMs: 5_000,
    log: info,
  });
  const failed = exits.filter((e) => !e.ok);
  if (failed.length > 0) {
    log(`stopped: ${failed.length} of ${exits.length} synthetic worker(s) failed (${failed[0].reason})`);
    process.exitCode = 1;
  } else info(`done: ${exits.length} synthetic worker(s): ${exits[0].reason}`);
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
