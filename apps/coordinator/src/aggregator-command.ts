// `adalora aggregator`: its flags are checked here with light modules only (a bad flag is
// refused before TensorFlow.js loads); @adalora/aggregator is imported after.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CLI_ENV, integerAtLeast } from '@adalora/config';
import { readRunSecret } from '@adalora/protocol';

interface AggregatorFlags {
  coordinator: string;
  host: string;
  port: number;
  id?: string;
  cacheDir?: string;
  secretFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsFingerprint?: string;
  insecure?: boolean;
  stepTimeoutFloor: number;
  heartbeat: number;
  maxWorkers: number;
  minWorkers: number;
  giveUpAfter: number;
}

const integer = integerAtLeast;

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`${flag} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The certificate this aggregator serves its workers with, if any: both files or neither. */
function servedTls(f: AggregatorFlags): { cert: Buffer; key: Buffer } | null {
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  return f.tlsCert !== undefined && f.tlsKey !== undefined ? { cert: readFlagFile('--tls-cert', f.tlsCert), key: readFlagFile('--tls-key', f.tlsKey) } : null;
}

/** How the coordinator's certificate is trusted (wss), if said: a CA or a pinned fingerprint. */
function coordinatorTls(f: AggregatorFlags): { ca: Buffer } | { fingerprint: string } | undefined {
  if (f.tlsCa !== undefined && f.tlsFingerprint !== undefined) throw new Error('--tls-ca and --tls-fingerprint: give one of them');
  if (f.tlsFingerprint !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(f.tlsFingerprint.replace(/:/g, '').toLowerCase())) throw new Error(`--tls-fingerprint: expected a SHA-256 fingerprint (64 hex digits, colons allowed), got ${f.tlsFingerprint.length} chars`);
    return { fingerprint: f.tlsFingerprint };
  }
  return f.tlsCa === undefined ? undefined : { ca: readFlagFile('--tls-ca', f.tlsCa) };
}

/** The `aggregator` command, for the `adalora` program. */
export function aggregatorCommand(): Command {
  return new Command('aggregator')
    .description('join a coordinator as one worker and serve workers of its own (e.g. one per machine); they join it with `adalora worker --coordinator ws://THIS_HOST:PORT`')
    // the settings a launcher sets come from the same environment variables as the worker's and the coordinator's (flag > variable > default)
    .addOption(new Option('--coordinator <url>', 'ws://HOST:PORT (or wss://) of the coordinator').env(CLI_ENV.coordinator).makeOptionMandatory())
    .addOption(new Option('--host <host>', 'address its own workers connect to').env(CLI_ENV.host).default('127.0.0.1'))
    .addOption(new Option('-p, --port <port>', 'port for its own workers, 0 = any free port').env(CLI_ENV.port).argParser(integer(0)).default(7071))
    .addOption(new Option('--id <id>', 'its worker id at the coordinator, stable across reconnects (default: aggregator-<host>-<pid>)').env(CLI_ENV.workerId))
    .addOption(new Option('--cache-dir <dir>', "where the model files fetched from the coordinator are kept, by hash (default: the worker's cache)").env(CLI_ENV.cacheDir))
    .addOption(new Option('--secret-file <file>', 'file holding the run secret, proved to the coordinator and required of its own workers (else ADALORA_SECRET)').env(CLI_ENV.secretFile))
    .addOption(new Option('--tls-cert <file>', 'PEM certificate: serve wss to its own workers (with --tls-key)').env(CLI_ENV.tlsCert))
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env(CLI_ENV.tlsKey))
    .addOption(new Option('--tls-ca <file>', 'for a wss coordinator: CA certificate (PEM) to trust').env(CLI_ENV.tlsCa))
    .addOption(new Option('--tls-fingerprint <sha256>', 'for a wss coordinator: trust only the certificate with this SHA-256 fingerprint').env(CLI_ENV.tlsFingerprint))
    .option('--insecure', 'listen beyond loopback WITHOUT a secret: anyone who can reach the port can join')
    // below the coordinator's default 10 s: a hung worker is dropped and its share redone before the coordinator's deadline for the aggregator passes
    .option('--step-timeout-floor <ms>', 'least deadline of a request to one of its workers (as cluster.stepTimeoutFloorMs; keep it below the coordinator\'s)', integer(1), 5_000)
    .option('--heartbeat <ms>', 'ping interval to its workers; an idle worker silent for two is dropped (as cluster.heartbeatMs)', integer(10), 2_000)
    .option('--max-workers <n>', 'its own workers at most (as cluster.maxConnections)', integer(1), 64)
    .option('--min-workers <n>', 'its own workers to wait for before it computes its first share (as the coordinator\'s --min-workers)', integer(1), 1)
    .option('--give-up-after <seconds>', 'give up once the coordinator has been out of reach this long', integer(1), 600)
    .action(async (f: AggregatorFlags) => {
      if (!/^wss?:\/\/[^/]+/.test(f.coordinator) || !URL.canParse(f.coordinator)) throw new Error(`--coordinator: expected ws://HOST:PORT or wss://HOST:PORT, got '${f.coordinator}'`);
      const security = { secret: readRunSecret(f.secretFile, process.env), tls: servedTls(f), insecure: f.insecure === true };
      const tls = coordinatorTls(f);
      const id = f.id ?? `aggregator-${hostname()}-${process.pid}`;
      const log = (line: string) => console.log(`${new Date().toISOString()} aggregator ${id}: ${line}`);
      const { runAggregator } = await import('@adalora/aggregator');
      const exit = await runAggregator({
        coordinatorUrl: f.coordinator,
        workerId: id,
        ...(tls && { coordinatorTls: tls }),
        ...(f.cacheDir !== undefined && { cacheDir: f.cacheDir }),
        giveUpAfterMs: f.giveUpAfter * 1000,
        host: f.host,
        port: f.port,
        security,
        stepTimeoutFloorMs: f.stepTimeoutFloor,
        heartbeatMs: f.heartbeat,
        maxConnections: f.maxWorkers,
        minWorkers: f.minWorkers,
        handshakeTimeoutMs: 5_000,
        log,
      });
      if (!exit.ok) {
        log(`stopped: ${exit.reason}`);
        process.exitCode = 1;
      } else log(`done: ${exit.reason}`);
    });
}
