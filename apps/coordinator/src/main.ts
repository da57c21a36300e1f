#!/usr/bin/env node
// Only light modules are imported up front, so that a bad config or flag is refused, and
// `--help` printed, without loading TensorFlow.js: the runtime is imported once they are valid.
import { Command, InvalidArgumentError, Option } from 'commander';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { applyOverrides, BUILTIN_MODEL, CLI_ENV, finiteNumber, integerAtLeast, mergeConfig, parseBackendChoice, parseRunConfig, RANK_RECOVERY_DEFAULTS, readConfigFile, type RunConfig } from '@adalora/config';
import { workerCommand } from '@adalora/worker';
import { predictDataSettings, type PredictDataFlags } from './predict-settings';
import { qaOutputFiles } from './qa-output-files';
import { runProgram } from './run-program';
import { registerScaleCommand } from './scale/scale-command';
import { aggregatorCommand } from './aggregator-command';

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
  overwrite?: boolean;
  progress: boolean;
}

const integer = integerAtLeast;
const collect = (v: string, all: string[]) => [...all, v];

/**
 * The coordinator's options. Those a launcher sets also come from environment variables
 * (CLI_ENV): a flag wins over its variable, which wins over the config file, then the default.
 */
function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-c, --config <file>', 'run config, JSON or YAML (default: the built-in rank-recovery job)').env(CLI_ENV.config))
    .option('-s, --set <key=value>', 'override one config field, e.g. training.lr=2e-4 (repeatable)', collect, [])
    .addOption(new Option('--host <host>', 'address to listen on (cluster.host)').env(CLI_ENV.host))
    .addOption(new Option('-p, --port <port>', 'port to listen on, 0 = any free port (cluster.port)').argParser(integer(0)).env(CLI_ENV.port))
    .addOption(new Option('--min-workers <n>', 'workers to wait for before training (cluster.minWorkers)').argParser(integer(1)).env(CLI_ENV.minWorkers))
    .addOption(new Option('-b, --backend <name>', 'tfjs backend of this process: auto | tensorflow | wasm | cpu (cluster.backend)').env(CLI_ENV.backend))
    .addOption(new Option('-o, --output <dir>', 'where checkpoints, metrics and the final adapter go (outputDir)').env(CLI_ENV.output))
    .option('--resume <dir|latest>', "continue an earlier run from one of its checkpoints, or from the newest intact one of the output folder: 'latest' (resume)")
    .addOption(new Option('--secret-file <file>', 'file holding the run secret workers must prove (cluster.secretFile; else ADALORA_SECRET)').env(CLI_ENV.secretFile))
    .addOption(new Option('--tls-cert <file>', 'PEM certificate: serve wss (cluster.tlsCert, with --tls-key)').env(CLI_ENV.tlsCert))
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert (cluster.tlsKey)').env(CLI_ENV.tlsKey))
    .option('--insecure', 'listen beyond loopback WITHOUT a secret: anyone who can reach the port can join')
    .option('--overwrite', "delete a previous run's outputs in the output folder (metrics.jsonl, checkpoint-*, final/, best/) instead of refusing it")
    .option('--no-progress', 'no progress bar (log lines only)');
}

/**
 * The config file, then the command's defaults (given what the file says), then the settings
 * from environment variables, then --set overrides, then the dedicated flags, validated as one.
 * `cmd` tells a dedicated option's source (flag or variable); without it all count as flags.
 */
function resolveConfig(flags: CommonFlags, defaults: (raw: Record<string, unknown>) => string[] = () => [], cmd?: Command): RunConfig {
  let raw = (flags.config ? readConfigFile(flags.config) : {}) as Record<string, unknown>;
  if (raw.model === undefined || raw.model === BUILTIN_MODEL) raw = mergeConfig(RANK_RECOVERY_DEFAULTS, raw) as Record<string, unknown>;
  const dedicated: [keyof CommonFlags, string][] = [];
  const add = (key: keyof CommonFlags, set: string) => dedicated.push([key, set]);
  if (flags.host !== undefined) add('host', `cluster.host=${flags.host}`);
  if (flags.port !== undefined) add('port', `cluster.port=${flags.port}`);
  if (flags.minWorkers !== undefined) add('minWorkers', `cluster.minWorkers=${flags.minWorkers}`);
  if (flags.backend !== undefined) add('backend', `cluster.backend=${parseBackendChoice(flags.backend)}`);
  if (flags.output !== undefined) add('output', `outputDir=${JSON.stringify(flags.output)}`);
  if (flags.resume !== undefined) add('resume', `resume=${JSON.stringify(flags.resume)}`);
  if (flags.secretFile !== undefined) add('secretFile', `cluster.secretFile=${JSON.stringify(flags.secretFile)}`);
  if (flags.tlsCert !== undefined) add('tlsCert', `cluster.tlsCert=${JSON.stringify(flags.tlsCert)}`);
  if (flags.tlsKey !== undefined) add('tlsKey', `cluster.tlsKey=${JSON.stringify(flags.tlsKey)}`);
  const fromEnv = ([key]: [keyof CommonFlags, string]) => cmd?.getOptionValueSource(key) === 'env';
  const sets = [...defaults(raw), ...dedicated.filter(fromEnv).map(([, set]) => set), ...flags.set, ...dedicated.filter((d) => !fromEnv(d)).map(([, set]) => set)];
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
async function serve(config: RunConfig, flags: CommonFlags, onListening?: (port: number, job: Job, security: ClusterSecurity, print: (line: string) => void) => void): Promise<number> {
  const { claimOutputFolder, Coordinator, listenPolicy, loadBackend, loadClusterSecurity, prepareJob, rankReport, RunInterrupted } = await loadRuntime();
  // secret and TLS files are read, and the listen address checked, before the backend and the model load
  const security = loadClusterSecurity(config.cluster, process.env, flags.insecure === true);
  listenPolicy(config.cluster.host, security); // throws now; the coordinator logs it
  // a previous run's outputs are refused (or deleted with --overwrite) before anything is written
  claimOutputFolder(config.outputDir, { overwrite: flags.overwrite === true, resuming: config.resume !== undefined }, log);
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
    onListening?.(port, job, security, (line) => coordinator.printAbove(() => console.log(line)));
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
    console.log(`report: ${result.reportPath}`);
    if (result.finalVsBest) console.log(result.finalVsBest);
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

/** The version of the package (package.json), for --version. */
const packageVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new Command('adalora')
  .description('Distributed AdaLoRA fine-tuning: a coordinator and N TensorFlow.js workers over WebSocket.')
  .version(packageVersion, '-V, --version', 'print the version and exit')
  .showHelpAfterError()
  .showSuggestionAfterError();

withCommonOptions(program.command('coordinator').description('start a coordinator; workers join it with `adalora worker --coordinator ws://HOST:PORT`')).action(
  async (flags: CommonFlags, cmd: Command) => exitIfInterrupted(await serve(resolveConfig(flags, undefined, cmd), flags)),
);

withCommonOptions(program.command('run').description('start a coordinator and N local workers (child processes); with no config, the built-in job'))
  .addOption(new Option('-w, --workers <n>', 'local workers to start').argParser(integer(1)).default(2))
  .addOption(new Option('--worker-backend <name>', 'tfjs backend of the workers').default('auto'))
  .action(async (flags: CommonFlags & { workers: number; workerBackend: string }, cmd: Command) => {
    // Local workers: listen on loopback, on any free port unless one is given.
    const config = resolveConfig(
      flags,
      (raw) => {
        const cluster = (raw.cluster ?? {}) as Record<string, unknown>;
        return [`cluster.minWorkers=${flags.workers}`, ...(cluster.port === undefined ? ['cluster.port=0'] : [])];
      },
      cmd,
    );
    const workerBackend = parseBackendChoice(flags.workerBackend);
    const { startLocalWorkers, stopLocalWorkers } = await loadRuntime();
    let children: ReturnType<typeof startLocalWorkers> = [];
    let code = 0;
    try {
      code = await serve(config, flags, (port, job, security, print) => {
        // local workers share this machine: they use the coordinator's model folder and secret, and trust its certificate
        const { secretFile } = config.cluster;
        const args = ['--quiet', '--model', job.modelDir];
        if (secretFile !== undefined) args.push('--secret-file', secretFile);
        // pinned, so that a certificate made for another host name still serves local workers
        if (security.tls) args.push('--tls-fingerprint', new X509Certificate(security.tls.cert).fingerprint256);
        const url = `${security.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`;
        children = startLocalWorkers({ count: flags.workers, coordinatorUrl: url, backend: workerBackend, extraArgs: args, log: print });
      });
    } finally {
      // local workers of an interrupted run would wait for a coordinator that is not coming back
      if (code !== 0) children.forEach((c) => c.kill('SIGTERM'));
      await stopLocalWorkers(children);
    }
    exitIfInterrupted(code);
  });

// the aggregation tier: one worker to its coordinator, a coordinator to workers of its own
program.addCommand(aggregatorCommand());

program
  .command('merge')
  .description('fold a trained PEFT adapter into its base checkpoint and write a plain HF checkpoint')
  .requiredOption('-m, --model <dir>', 'the base checkpoint the adapter was trained on')
  .requiredOption('-a, --adapter <dir>', 'the PEFT adapter dir (e.g. runs/x/final/adapter)')
  .requiredOption('-o, --output <dir>', 'where to write config.json, model.safetensors and the tokenizer files')
  .option('--overwrite', 'write into an output folder that already holds files')
  .option('--tokenizer <dir>', 'where the tokenizer files are, when not in the base checkpoint folder')
  .addOption(new Option('-b, --backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu').env(CLI_ENV.backend).default('auto'))
  .action(async (flags: { model: string; adapter: string; output: string; backend: string; overwrite?: boolean; tokenizer?: string }) => {
    const backend = parseBackendChoice(flags.backend);
    const { checkOutputFolder, loadBackend, mergeCommand } = await loadRuntime();
    checkOutputFolder(flags.output, flags.overwrite === true, 'the output folder'); // before the backend loads
    await loadBackend(backend, { log });
    await mergeCommand(flags.model, flags.adapter, flags.output, log, { overwrite: flags.overwrite === true, tokenizerDir: flags.tokenizer });
  });

program
  .command('predict')
  .description('score a data file with a base model and a trained adapter: a predictions file, and metrics when the file has labels (QA: answers, and EM/F1 when it has answers)')
  .requiredOption('--base <dir>', 'the base checkpoint the adapter was trained on')
  .requiredOption('-a, --adapter <dir>', 'the PEFT adapter dir (e.g. runs/x/final/adapter)')
  .requiredOption('-d, --data <file>', 'the data file: TSV, CSV, JSONL, or pre-tokenized JSONL, as training reads them; for a QA adapter SQuAD v1.1/v2.0 JSON or JSONL')
  .option(
    '-o, --output <file>',
    'the predictions file: JSONL (index, line, label, label_id, scores; or value for regression); QA: a .json name gets HF run_qa\'s predictions.json (id → answer) and for v2 null_odds.json beside it, any other name JSONL (index, id, prediction_text, v2 null_odds)',
    'predictions.jsonl',
  )
  .option('--overwrite', 'replace an existing predictions file')
  .option('-c, --config <file>', "a run config whose data section says how to read the file (default: the run config saved beside the adapter's checkpoint)")
  .option('--format <format>', 'auto | tsv | csv | jsonl | pretokenized (data.format)')
  .option('--text-column <name>', 'data.textColumn')
  .option('--text-pair-column <name>', 'data.textPairColumn')
  .option('--label-column <name>', 'data.labelColumn')
  .option('--max-length <n>', 'data.maxLength', integer(2))
  .option('--task <task>', 'classification | regression | qa (data.task; qa is implied by a QUESTION_ANS adapter)')
  .option('--squad-version <v>', 'QA: auto | 1.1 | 2.0 (data.squadVersion; auto: as the run detected it, else from the file)')
  .option('--doc-stride <n>', 'QA: data.docStride', integer(0))
  .option('--n-best <n>', 'QA: data.nBest', integer(1))
  .option('--max-answer-length <n>', 'QA: data.maxAnswerLength', integer(1))
  .option('--null-score-threshold <x>', 'QA v2: data.nullScoreThreshold', finiteNumber)
  .option('--tokenizer <dir>', 'tokenizer.json or its folder (default: the base checkpoint folder)')
  .option('--batch-size <n>', 'examples (QA: windows) per forward pass', integer(1), 32)
  .addOption(new Option('-b, --backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu').env(CLI_ENV.backend).default('auto'))
  .action(async (flags: PredictDataFlags & { base: string; data: string; output: string; overwrite?: boolean; batchSize: number; backend: string }) => {
    // every setting is checked before the backend loads
    const backend = parseBackendChoice(flags.backend);
    const settings = predictDataSettings(flags);
    const qa = settings.data.task === 'qa';
    const outputs = qa ? [flags.output, qaOutputFiles(flags.output).nullOdds].filter((f): f is string => f !== null) : [flags.output];
    for (const f of outputs) if (existsSync(f) && flags.overwrite !== true) throw new Error(`${f} already exists: choose another file with -o, or pass --overwrite`);
    const { formatMetrics, loadBackend, predictCommand, predictQa } = await loadRuntime();
    await loadBackend(backend, { log });
    log(`data settings from ${settings.source}`);
    const o = { baseDir: flags.base, adapterDir: flags.adapter, dataFile: flags.data, outFile: flags.output, data: settings.data, tokenizerDir: settings.tokenizer, batchSize: flags.batchSize };
    const r = qa ? await predictQa(o, log) : await predictCommand(o, log);
    const count = 'questions' in r ? `${r.questions} questions` : `${r.examples} examples`;
    if (r.metrics) {
      console.log(`${count}: ${formatMetrics(r.metrics as Readonly<Record<string, number>>)}, loss ${r.loss!.toFixed(4)}`);
      // full precision, one line, for scripts
      console.log(`metrics ${JSON.stringify({ ...('questions' in r ? { questions: r.questions, windows: r.windows } : { examples: r.examples }), metrics: r.metrics, loss: r.loss })}`);
    } else console.log(`${count} (${qa ? 'no answers' : 'no labels'}: no metrics)`);
  });

program
  .command('report')
  .description('write report.html (charts, rank heatmap, events: one file that opens offline) and CSV files of a run folder')
  .argument('<run-dir>', 'the output folder of a run (holding metrics.jsonl)')
  .option('-o, --output <dir>', 'where to write report.html, metrics-steps.csv and metrics-evals.csv (default: the run folder)')
  .action(async (runDir: string, flags: { output?: string }) => {
    const { writeRunReport } = await loadRuntime();
    const files = writeRunReport(runDir, flags.output);
    console.log(`steps CSV: ${files.stepsCsv}`);
    console.log(`evaluations CSV: ${files.evalsCsv}`);
    console.log(`report: ${files.html}`);
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

// `adalora worker` runs through apps/worker (bin/adalora.mjs); listed here so that the help shows it
program.addCommand(workerCommand());

// `adalora scale`: loads no tfjs itself (the measured runs are child processes)
registerScaleCommand(program, (config, set) => resolveConfig({ config, set, progress: false }));

// last: the commands are all registered above, so that an unknown one is told from them
runProgram(program, process.argv);
