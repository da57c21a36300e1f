// Only light modules are imported up front, so that a bad flag is refused, and `--help`
// printed, without loading TensorFlow.js: the backend and the client are imported after.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CLI_ENV, integerAtLeast, parseBackendChoice, parseDuration } from '@adalora/config';
import { readRunSecret } from '@adalora/protocol';
import { deviceForWorker } from './device-pinning';
import { runWorkerClient } from './lazy-runtime';
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

/** The default worker id: host name and, under pm2, the instance index (stable across restarts), else the pid. */
function defaultWorkerId(env: Readonly<Record<string, string | undefined>>): string {
  const index = env[CLI_ENV.workerIndex];
  return `${hostname()}-${index !== undefined && index !== '' ? index : process.pid}`;
}

/**
 * The `adalora worker` command. `name` is 'worker' when it is added to the `adalora` program
 * (so `adalora help worker` shows it), 'adalora worker' when it runs on its own.
 */
export function workerCommand(name = 'worker'): Command {
  const env = process.env;
  return new Command(name)
    .description('start a worker: holds the frozen base model and computes gradient sums for a coordinator')
    .addOption(new Option('-c, --coordinator <url>', 'coordinator address').env(CLI_ENV.coordinator).default('ws://127.0.0.1:7070'))
    .addOption(new Option('-b, --backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu').env(CLI_ENV.backend).default('auto'))
    .addOption(new Option('--id <id>', 'worker id, stable across reconnects').env(CLI_ENV.workerId).default(defaultWorkerId(env), '<host name>-<pm2 instance index, else pid>'))
    .option('--model <dir>', "local copy of the base model (its hash must match the run's); default: fetched from the coordinator into --cache-dir")
    .addOption(new Option('--cache-dir <dir>', `where fetched model files are kept, by hash (default ${defaultCacheDir()})`).env(CLI_ENV.cacheDir))
    .addOption(new Option('--secret-file <file>', 'file holding the run secret (else the ADALORA_SECRET environment variable)').env(CLI_ENV.secretFile))
    .addOption(new Option('--tls-ca <file>', 'for wss: CA certificate (PEM) to trust for the coordinator').env(CLI_ENV.tlsCa))
    .addOption(new Option('--tls-fingerprint <sha256>', 'for wss: trust only the coordinator certificate with this SHA-256 fingerprint (e.g. a self-signed one)').env(CLI_ENV.tlsFingerprint))
    .option('--retries <n>', 'failed connection attempts in a row before giving up (default: no limit, see --give-up-after)', integerAtLeast(0))
    .option('--give-up-after <duration>', 'give up once the coordinator has been out of reach this long, e.g. 90s, 10m, 1h', parseDuration, parseDuration('10m'))
    .option('--quiet', 'log only faults')
    .option('--synthetic', 'a synthetic worker: no model, no tfjs; answers with deterministic gradients of the run\'s names, shapes and wire dtype after --sample-ms per sample (for measuring the coordinator, see "Scaling")')
    .option('--connections <k>', 'with --synthetic: this many synthetic workers in this process, each on its own connection', integerAtLeast(1), 1)
    .option('--sample-ms <ms>', 'with --synthetic: compute time per sample, standing in for a GPU (default 0)', nonNegative, 0)
    // testing only, and hidden: fails every compute request, as a worker that cannot compute would
    .addOption(new Option('--inject-fault <where>', 'testing: fail every request of this kind').choices(['compute']).hideHelp())
    .action(async (opts: WorkerFlags, cmd: Command) => {
      // a flag wins over the environment: a CA in ADALORA_TLS_CA does not clash with a --tls-fingerprint given (as `adalora run` gives its local workers)
      const fromEnv = (key: 'tlsCa' | 'tlsFingerprint') => cmd.getOptionValueSource(key) === 'env';
      if (opts.tlsCa !== undefined && opts.tlsFingerprint !== undefined && fromEnv('tlsCa') !== fromEnv('tlsFingerprint')) {
        if (fromEnv('tlsCa')) opts.tlsCa = undefined;
        else opts.tlsFingerprint = undefined;
      }
      // options that can be wrong are checked before the backend loads
      const secret = readRunSecret(opts.secretFile, process.env);
      const tls = workerTls(opts);
      const log = (line: string) => console.log(`${new Date().toISOString()} worker ${opts.id}: ${line}`);
      const info = opts.quiet ? () => {} : log;
      if (!opts.synthetic && (opts.connections !== 1 || opts.sampleMs !== 0)) throw new Error('--connections and --sample-ms go with --synthetic');
      if (opts.synthetic) return runSynthetic(opts, secret, tls, info, log);
      const backend = parseBackendChoice(opts.backend);
      // one GPU per worker process (pm2 instances): set before tfjs, and so CUDA, loads
      const device = deviceForWorker(env);
      if (device.cudaVisibleDevices !== null) env.CUDA_VISIBLE_DEVICES = device.cudaVisibleDevices;
      info(`devices: CUDA_VISIBLE_DEVICES=${env.CUDA_VISIBLE_DEVICES ?? '(unset)'} (${device.reason})`);
      const { loadBackend } = await import('@adalora/backend');
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
    await workerCommand('adalora worker').parseAsync([...argv]);
  } catch (e) {
    console.error(`adalora worker: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
