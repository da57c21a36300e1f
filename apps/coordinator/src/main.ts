#!/usr/bin/env node
// Only light modules are imported up front, so that a bad config or flag is refused, and
// `--help` printed, without loading TensorFlow.js: the runtime is imported once they are valid.
import { Command, InvalidArgumentError, Option } from 'commander';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { applyOverrides, BUILTIN_MODEL, mergeConfig, parseBackendChoice, parseRunConfig, RANK_RECOVERY_DEFAULTS, readConfigFile, type RunConfig } from '@adalora/config';

/** The backend, models, training and coordinator runtime: loads tfjs (a second or more). */
const loadRuntime = () => import('./runtime');
type Job = import('./runtime').Job;
type ClusterSecurity = import('./runtime').ClusterSecurity;

interface CommonFlags {
  config?: string;
  set: string[];
  host?: string;
  port?: number;
  minWorkers?: number;
  backend?: string;
  output?: string;
  resume?: string;
  secretFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  progress: boolean;
}

const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const collect = (v: string, all: string[]) => [...all, v];

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'run config, JSON or YAML (default: the built-in rank-recovery job)')
    .option('-s, --set <key=value>', 'override one config field, e.g. training.lr=2e-4 (repeatable)', collect, [])
    .option('--host <host>', 'address to listen on (cluster.host)')
    .option('-p, --port <port>', 'port to listen on, 0 = any free port (cluster.port)', integer(0))
    .option('--min-workers <n>', 'workers to wait for before training (cluster.minWorkers)', integer(1))
    .option('-b, --backend <name>', 'tfjs backend of this process: auto | tensorflow | wasm | cpu (cluster.backend)')
    .option('-o, --output <dir>', 'where checkpoints, metrics and the final adapter go (outputDir)')
    .option('--resume <dir|latest>', "continue an earlier run from one of its checkpoints, or from the newest intact one of the output folder: 'latest' (resume)")
    .option('--secret-file <file>', 'file holding the run secret workers must prove (cluster.secretFile; else ADALORA_SECRET)')
    .option('--tls-cert <file>', 'PEM certificate: serve wss (cluster.tlsCert, with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (cluster.tlsKey)')
    .option('--insecure', 'listen beyond loopback WITHOUT a secret: anyone who can reach the port can join')
    .option('--no-progress', 'no progress bar (log lines only)');
}

/**
 * The config file, then the command's defaults (given what the file says), then --set
 * overrides, then the dedicated flags, validated as one.
 */
function resolveConfig(flags: CommonFlags, defaults: (raw: Record<string, unknown>) => string[] = () => []): RunConfig {
  let raw = (flags.config ? readConfigFile(flags.config) : {}) as Record<string, unknown>;
  if (raw.model === undefined || raw.model === BUILTIN_MODEL) raw = mergeConfig(RANK_RECOVERY_DEFAULTS, raw) as Record<string, unknown>;
  const sets = [...defaults(raw), ...flags.set];
  if (flags.host !== undefined) sets.push(`cluster.host=${flags.host}`);
  if (flags.port !== undefined) sets.push(`cluster.port=${flags.port}`);
  if (flags.minWorkers !== undefined) sets.push(`cluster.minWorkers=${flags.minWorkers}`);
  if (flags.backend !== undefined) sets.push(`cluster.backend=${parseBackendChoice(flags.backend)}`);
  if (flags.output !== undefined) sets.push(`outputDir=${JSON.stringify(flags.output)}`);
  if (flags.resume !== undefined) sets.push(`resume=${JSON.stringify(flags.resume)}`);
  if (flags.secretFile !== undefined) sets.push(`cluster.secretFile=${JSON.stringify(flags.secretFile)}`);
  if (flags.tlsCert !== undefined) sets.push(`cluster.tlsCert=${JSON.stringify(flags.tlsCert)}`);
  if (flags.tlsKey !== undefined) sets.push(`cluster.tlsKey=${JSON.stringify(flags.tlsKey)}`);
  return parseRunConfig(applyOverrides(raw, sets));
}

const log = (line: string) => console.log(`${new Date().toISOString()} coordinator: ${line}`);

/** The exit code of a run stopped by a signal: 128 + its number, as shells report it. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;

/**
 * Prepares the job, serves it to workers until the run ends, prints the rank report. Resolves
 * with 0, or with the exit code of the signal that interrupted the run: the first SIGINT or
 * SIGTERM abandons the step in flight, saves a checkpoint of the last completed one and
 * disconnects the workers (they wait for a restarted coordinator); a second one exits at once.
 */
async function serve(config: RunConfig, flags: CommonFlags, onListening?: (port: number, job: Job, security: ClusterSecurity) => void): Promise<number> {
  const { Coordinator, listenPolicy, loadBackend, loadClusterSecurity, prepareJob, rankReport, RunInterrupted } = await loadRuntime();
  // secret and TLS files are read, and the listen address checked, before the backend and the model load
  const security = loadClusterSecurity(config.cluster, process.env, flags.insecure === true);
  listenPolicy(config.cluster.host, security); // throws now; the coordinator logs it
  await loadBackend(config.cluster.backend, { log });
  const job = await prepareJob(config, log);
  const coordinator = await Coordinator.create(job, { log, progressBar: flags.progress && process.stdout.isTTY === true, security });
  let stoppedBy: StopSignal | null = null;
  const onSignal = (signal: StopSignal) => {
    if (stoppedBy) {
      log(`${signal} again: exiting at once, without a checkpoint`);
      process.exit(SIGNAL_EXIT[signal]);
    }
    stoppedBy = signal;
    log(`${signal}: stopping after the step in flight (its gradients not all in yet: abandoned) and saving a checkpoint; ${signal} again exits at once`);
    coordinator.interrupt();
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let failed = false;
  try {
    const port = await coordinator.listening();
    onListening?.(port, job, security);
    let result;
    try {
      result = await coordinator.train();
    } catch (e) {
      if (!(e instanceof RunInterrupted)) throw e;
      await coordinator.close('interrupted');
      log(`${e.message}; the same command with --resume latest continues the run (${e.step}/${job.totalSteps} steps done)`);
      return SIGNAL_EXIT[stoppedBy ?? 'SIGINT'];
    }
    console.log('\nRank per adapted matrix at the end of the run:');
    console.log(rankReport(result.rankPattern, job.trueRanks));
    if (result.finalEval) {
      console.log(`final dev ${Object.entries(result.finalEval.metrics).map(([k, v]) => `${k} ${(v as number).toFixed(4)}`).join(', ')}`);
    }
    console.log(`first loss ${result.losses[0]?.toFixed(4)}, last loss ${result.losses.at(-1)?.toFixed(4)}; adapter: ${result.adapterDir}`);
    return 0;
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    await coordinator.close(failed ? 'interrupted' : 'finished');
    job.dispose();
  }
}

/** An interrupted run exits now: requests it abandoned may still hold timers. */
function exitIfInterrupted(code: number): void {
  if (code !== 0) process.exit(code);
}

const program = new Command('adalora')
  .description('Distributed AdaLoRA fine-tuning: a coordinator and N TensorFlow.js workers over WebSocket.')
  .showHelpAfterError();

withCommonOptions(program.command('coordinator').description('start a coordinator; workers join it with `adalora worker --coordinator ws://HOST:PORT`')).action(
  async (flags: CommonFlags) => exitIfInterrupted(await serve(resolveConfig(flags), flags)),
);

withCommonOptions(program.command('run').description('start a coordinator and N local workers (child processes); with no config, the built-in job'))
  .addOption(new Option('-w, --workers <n>', 'local workers to start').argParser(integer(1)).default(2))
  .addOption(new Option('--worker-backend <name>', 'tfjs backend of the workers').default('auto'))
  .action(async (flags: CommonFlags & { workers: number; workerBackend: string }) => {
    // Local workers: listen on loopback, on any free port unless one is given.
    const config = resolveConfig(flags, (raw) => {
      const cluster = (raw.cluster ?? {}) as Record<string, unknown>;
      return [`cluster.minWorkers=${flags.workers}`, ...(cluster.port === undefined ? ['cluster.port=0'] : [])];
    });
    const workerBackend = parseBackendChoice(flags.workerBackend);
    const { startLocalWorkers, stopLocalWorkers } = await loadRuntime();
    let children: ReturnType<typeof startLocalWorkers> = [];
    let code = 0;
    try {
      code = await serve(config, flags, (port, job, security) => {
        // local workers share this machine: they use the coordinator's model folder and secret, and trust its certificate
        const { secretFile } = config.cluster;
        const args = ['--quiet', '--model', job.modelDir];
        if (secretFile !== undefined) args.push('--secret-file', secretFile);
        // pinned, so that a certificate made for another host name still serves local workers
        if (security.tls) args.push('--tls-fingerprint', new X509Certificate(security.tls.cert).fingerprint256);
        const url = `${security.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`;
        children = startLocalWorkers({ count: flags.workers, coordinatorUrl: url, backend: workerBackend, extraArgs: args, log: (l) => console.log(l) });
      });
    } finally {
      // local workers of an interrupted run would wait for a coordinator that is not coming back
      if (code !== 0) children.forEach((c) => c.kill('SIGTERM'));
      await stopLocalWorkers(children);
    }
    exitIfInterrupted(code);
  });

program
  .command('merge')
  .description('fold a trained PEFT adapter into its base checkpoint and write a plain HF checkpoint')
  .requiredOption('-m, --model <dir>', 'the base checkpoint the adapter was trained on')
  .requiredOption('-a, --adapter <dir>', 'the PEFT adapter dir (e.g. runs/x/final/adapter)')
  .requiredOption('-o, --output <dir>', 'where to write config.json + model.safetensors')
  .option('-b, --backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu', 'auto')
  .action(async (flags: { model: string; adapter: string; output: string; backend: string }) => {
    const backend = parseBackendChoice(flags.backend);
    const { loadBackend, mergeCommand } = await loadRuntime();
    await loadBackend(backend, { log });
    await mergeCommand(flags.model, flags.adapter, flags.output, log);
  });

// `adalora compare`: LoRA against AdaLoRA at equal budgets (its own module, loaded when run)
const list = (parse: (v: string) => number) => (v: string) => v.split(',').map(parse);
program
  .command('compare')
  .description('train LoRA and AdaLoRA at equal adapter budgets on a mixed-rank teacher task and a text task; write a table (CSV, JSON, markdown) and a plot (HTML)')
  .option('-o, --output <dir>', 'where tasks, runs, compare.{csv,json,md,html} go', 'runs/compare')
  .option('--tasks <list>', 'teacher,text or one of them', 'teacher,text')
  .option('--budgets <list>', 'ranks per matrix: LoRA r = AdaLoRA target_r (init_r 1.5×)', list(integer(1)), [1, 2, 4])
  .option('--seeds <n>', 'training seeds per method and budget', integer(1), 3)
  .option('--steps <n>', 'optimizer steps per run', integer(12), 64)
  .option('--train <n>', 'training rows per task', integer(8), 1024)
  .option('--dev <n>', 'dev rows per task', integer(8), 256)
  .option('--batch-size <n>', 'rows per step', integer(1), 32)
  .option('--lr <x>', 'peak learning rate', (v: string) => Number(v), 2e-2)
  .option('-w, --workers <n>', 'in-process workers per run', integer(1), 1)
  .option('-b, --backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu', 'wasm')
  .option('--tokenizer <path>', "the text task's tokenizer.json or its folder", fileURLToPath(new URL('../../../../shared/fixtures/tokenizer', import.meta.url)))
  .option('--task-seed <n>', 'seed of the tasks (teachers and data)', integer(0), 11)
  .action(async (flags: { output: string; tasks: string; budgets: number[]; seeds: number; steps: number; train: number; dev: number; batchSize: number; lr: number; workers: number; backend: string; tokenizer: string; taskSeed: number }) => {
    const tasks = flags.tasks.split(',');
    const bad = tasks.find((t) => t !== 'teacher' && t !== 'text');
    if (bad !== undefined) throw new InvalidArgumentError(`--tasks: unknown task '${bad}' (teacher, text)`);
    if (!(flags.lr > 0)) throw new InvalidArgumentError(`--lr: expected a number > 0, got ${flags.lr}`);
    const { compareCommand } = await import('./compare/compare-command');
    const { markdown } = await compareCommand({ ...flags, tasks: tasks as ('teacher' | 'text')[], backend: parseBackendChoice(flags.backend) }, (l) => console.log(`${new Date().toISOString()} compare: ${l}`));
    console.log(`\n${markdown}`);
  });

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`adalora: ${e.message}`);
  process.exitCode = 1;
});
