import { Command, InvalidArgumentError, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_MODEL, optimizerSteps, parseBackendChoice, RANK_RECOVERY_SAMPLES, type RunConfig } from '@adalora/config';
import type { MeasurementSource } from './measurement-source';
import { formatPredictionTable, predictionCsv, predictionNotes, predictionRows, type ScalePrediction } from './scale-prediction';
import { formatScaleTable, scaleCsv, scaleJson, type ScaleReport } from './scale-report';
import { scaleHtml } from './scale-html';
import { scaleTable, type Measurement } from './scale-table';

export interface ScaleFlags {
  config?: string;
  set: string[];
  workers: number[];
  warmup: number;
  steps: number;
  output: string;
  external?: boolean;
  host?: string;
  port?: number;
  workerBackend: string;
  synthetic?: boolean;
  preset: string;
  sampleMs: number;
  batchSize?: number;
  rowsPerWorker: number;
  workersIn: 'this-process' | 'child-process';
  runs: number;
  simulate?: boolean;
  predict: number[];
  linkGbps: number;
  latencyMs: number;
}

/** `--simulate`: the counts only predicted and the cluster the simulator models besides the measured set-up. */
export interface SimulateOptions {
  readonly predictOnly: readonly number[];
  readonly cluster: { readonly linkGbps: number; readonly latencyMs: number };
}

/** The names of the synthetic presets, without loading @adalora/coordinator (tfjs). */
export const PRESET_NAMES = ['bert-base-r12', 'deberta-v3-base-r12', 'bert-large-r12', 'tiny-r4'] as const;

/** `--workers 1,2,4`: distinct integers >= 1, in increasing order. */
export function parseWorkerCounts(v: string): number[] {
  const counts = v.split(',').map((s) => s.trim());
  const bad = counts.find((s) => !/^\d+$/.test(s) || Number(s) < 1);
  if (bad !== undefined) throw new InvalidArgumentError(`expected a comma-separated list of worker counts >= 1, e.g. 1,2,4; got '${bad}'`);
  const numbers = counts.map(Number);
  if (new Set(numbers).size !== numbers.length) throw new InvalidArgumentError(`each worker count once, got ${v}`);
  return numbers.sort((a, b) => a - b);
}

const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const collect = (v: string, all: string[]) => [...all, v];
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`${name}: expected a number > 0`);
  return n;
};
const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0)) throw new InvalidArgumentError(`${name}: expected a number >= 0`);
  return n;
};

/**
 * The overrides every measured run gets before the user's: no evaluation or checkpoint between
 * steps (they would sit in the measured time), and, unless given, `adalora.total_step` = the
 * full run's steps, so the runs cut to a few steps keep the full run's AdaLoRA schedule (and
 * pass its rule `tinit < total_step − tfinal`).
 */
export function scaleOverrides(config: RunConfig, configName: string): string[] {
  const sets = ['training.evalEvery=0', 'training.checkpointEvery=0'];
  if (config.resume !== undefined) throw new Error(`${configName}: 'resume' is set; adalora scale measures fresh runs, remove it`);
  if (config.adalora.totalStep === undefined) {
    const runSteps = config.training.maxSteps ?? (config.model === BUILTIN_MODEL ? optimizerSteps(config.training, RANK_RECOVERY_SAMPLES.train).totalSteps : undefined);
    if (runSteps === undefined) {
      throw new Error(`${configName}: adalora scale runs only the warm-up and measured steps; give the full run's steps as adalora.total_step (or training.maxSteps) so that its AdaLoRA schedule is kept`);
    }
    sets.push(`adalora.total_step=${runSteps}`);
  }
  return sets;
}

/**
 * The source the flags ask for: real runs (local worker processes or workers started
 * elsewhere) or synthetic workers. Imported only now: the synthetic source loads tfjs, and the
 * flags are checked before.
 */
async function measurementSource(flags: ScaleFlags, sets: readonly string[], log: (line: string) => void): Promise<MeasurementSource> {
  if (flags.synthetic) {
    const { SyntheticMeasurement } = await import('./synthetic-measurement');
    return new SyntheticMeasurement({
      preset: flags.preset as (typeof PRESET_NAMES)[number],
      sampleMs: flags.sampleMs,
      batchSize: flags.batchSize,
      rowsPerWorker: flags.rowsPerWorker,
      workersIn: flags.workersIn,
      simulate: flags.simulate === true,
      runs: flags.runs,
      log,
    });
  }
  const { RunMeasurement } = await import('./run-measurement');
  const runFlags = flags.external
    ? [...(flags.host !== undefined ? ['--host', flags.host] : []), ...(flags.port !== undefined ? ['--port', String(flags.port)] : [])]
    : ['--worker-backend', parseBackendChoice(flags.workerBackend)];
  return new RunMeasurement({ workers: flags.external ? 'external' : 'local', configFile: flags.config, sets, runFlags, runsDir: join(flags.output, 'runs'), log });
}

/** Refuses flags that do not go together, before anything is measured or loaded. */
export function checkScaleFlags(flags: ScaleFlags): void {
  if (!flags.external && (flags.host !== undefined || flags.port !== undefined)) throw new Error('--host and --port are for --external (local runs listen on loopback, on a free port)');
  if (flags.synthetic) {
    if (flags.external) throw new Error('--synthetic and --external: synthetic workers run on this machine; leave one out');
    if (flags.config !== undefined || flags.set.length > 0) throw new Error('--synthetic measures a preset\'s adapter set (--preset), not a config: leave out --config and --set');
    if (!(PRESET_NAMES as readonly string[]).includes(flags.preset)) throw new Error(`unknown --preset '${flags.preset}' (known: ${PRESET_NAMES.join(', ')})`);
    const largest = flags.workers[flags.workers.length - 1];
    if (flags.batchSize !== undefined && flags.batchSize < largest) throw new Error(`--batch-size ${flags.batchSize} gives some of the ${largest} workers no rows: give at least one row per worker`);
  } else {
    if (flags.simulate) throw new Error('--simulate models the synthetic-worker set-up on this machine: add --synthetic (and --preset)');
    const given = (['preset', 'sampleMs', 'batchSize', 'rowsPerWorker', 'workersIn', 'runs'] as const).filter((k) => flags[k] !== undefined && flags[k] !== SYNTHETIC_DEFAULTS[k]);
    if (given.length > 0) throw new Error(`--${given.map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(', --')}: only with --synthetic`);
  }
  if (!flags.simulate && flags.predict.length > 0) throw new Error('--predict gives counts for the simulator: add --simulate');
}

const SYNTHETIC_DEFAULTS = { preset: 'bert-base-r12', sampleMs: 5, batchSize: undefined, rowsPerWorker: 8, workersIn: 'this-process', runs: 1 } as const;

/** Measures every count in turn, then writes scale.csv, scale.json and scale.html and prints the table. */
export async function runScale(source: MeasurementSource, flags: Pick<ScaleFlags, 'workers' | 'warmup' | 'steps' | 'output' | 'config' | 'set'>, log: (line: string) => void, simulate?: SimulateOptions): Promise<ScaleReport> {
  const measurements: Measurement[] = [];
  for (const workers of flags.workers) {
    log(`measuring ${workers} worker(s): ${flags.warmup} warm-up + ${flags.steps} measured steps (${source.description})`);
    const m = await source.measure({ workers, warmupSteps: flags.warmup, steps: flags.steps });
    const fewer = m.workersSeen?.filter((n) => n !== workers).length ?? 0;
    if (fewer > 0) log(`warning: ${fewer} of the ${m.steps.length} measured steps at ${workers} worker(s) were served by another number of workers (a worker joined late, left or was dropped)`);
    measurements.push(m);
  }
  const rows = scaleTable(measurements);
  let prediction: ScalePrediction | undefined;
  if (simulate) {
    if (!source.predictor) throw new Error(`--simulate: the simulator does not model ${source.description}`);
    const { predictor, describe } = await source.predictor(simulate.cluster);
    prediction = { ...describe, rows: predictionRows(rows, simulate.predictOnly, predictor) };
  }
  const report: ScaleReport = {
    tool: 'adalora scale',
    date: new Date().toISOString(),
    source: source.description,
    ...(source.splitNote !== undefined && { splitNote: source.splitNote }),
    warmupSteps: flags.warmup,
    measuredSteps: flags.steps,
    config: { file: flags.config ?? null, set: flags.set },
    rows,
    steps: measurements.map((m) => ({ workers: m.workers, records: m.steps })),
    ...(prediction !== undefined && { prediction }),
  };
  mkdirSync(flags.output, { recursive: true });
  writeFileSync(join(flags.output, 'scale.csv'), scaleCsv(rows, prediction));
  if (prediction) writeFileSync(join(flags.output, 'scale-prediction.csv'), predictionCsv(prediction));
  writeFileSync(join(flags.output, 'scale.json'), scaleJson(report));
  writeFileSync(join(flags.output, 'scale.html'), scaleHtml(report));
  console.log(`\n${formatScaleTable(rows)}`);
  const counted = Math.max(...measurements.map((m) => m.steps.length));
  console.log(`medians over ${counted} measured steps per count (samples/s: interquartile range in brackets); speed-up and efficiency against ${rows[0].workers} worker(s)`);
  if (report.splitNote) console.log(`– : not measured separately (${report.splitNote})`);
  if (prediction) {
    console.log(`\n${formatPredictionTable(prediction)}`);
    for (const note of predictionNotes(prediction)) console.log(note);
  }
  const files = ['scale.csv', 'scale.json', 'scale.html', ...(prediction ? ['scale-prediction.csv'] : [])];
  console.log(`wrote ${files.map((f) => join(flags.output, f)).join(', ')}`);
  return report;
}

/**
 * Adds `adalora scale` to the CLI. `resolve` is the CLI's own config resolution (file, built-in
 * defaults, --set), used to refuse a bad config before any run starts. This module loads no
 * tfjs: the measured runs are child processes, and the synthetic source (which does) is
 * imported once the flags are checked.
 */
export function registerScaleCommand(program: Command, resolve: (configFile: string | undefined, sets: string[]) => RunConfig): void {
  program
    .command('scale')
    .description('measure how a run scales: the same config at several worker counts, a table of throughput, speed-up, efficiency and where the step time goes, with scale.csv, scale.json and scale.html')
    .option('-c, --config <file>', 'run config, JSON or YAML (default: the built-in rank-recovery job)')
    .option('-s, --set <key=value>', 'override one config field of every run (repeatable)', collect, [])
    .requiredOption('-w, --workers <list>', 'worker counts to measure, e.g. 1,2,4', parseWorkerCounts)
    .addOption(new Option('--warmup <n>', 'steps run before measuring, at each count').argParser(integer(0)).default(5))
    .addOption(new Option('--steps <k>', 'measured steps at each count').argParser(integer(1)).default(20))
    .addOption(new Option('-o, --output <dir>', 'where scale.csv/json/html and the runs (runs/workers-N) go').default('runs/scale'))
    .option('--external', 'workers are started elsewhere (`adalora worker`): for each count the coordinator waits for that many to join')
    .option('--host <host>', '--external: address the coordinator listens on (cluster.host)')
    .option('-p, --port <port>', '--external: port the coordinator listens on (cluster.port)', integer(1))
    .addOption(new Option('--worker-backend <name>', 'tfjs backend of the local workers').default('auto'))
    .option('--synthetic', "synthetic workers instead of a config's runs: the real protocol and a preset's gradient names and shapes, a compute delay instead of a model, all on this machine")
    .addOption(new Option('--preset <name>', '--synthetic: the adapter set').choices([...PRESET_NAMES]).default(SYNTHETIC_DEFAULTS.preset))
    .addOption(new Option('--sample-ms <ms>', '--synthetic: compute time per sample on a worker').argParser(nonNegative('--sample-ms')).default(SYNTHETIC_DEFAULTS.sampleMs))
    .addOption(new Option('--batch-size <n>', '--synthetic: the global batch at every count (default: --rows-per-worker × workers)').argParser(integer(1)))
    .addOption(new Option('--rows-per-worker <n>', '--synthetic: rows per worker per step when --batch-size is not given').argParser(integer(1)).default(SYNTHETIC_DEFAULTS.rowsPerWorker))
    .addOption(new Option('--workers-in <where>', "--synthetic: the synthetic connections in the coordinator's process or in one child process").choices(['this-process', 'child-process']).default(SYNTHETIC_DEFAULTS.workersIn))
    .addOption(new Option('--runs <r>', '--synthetic: runs per count, their steps pooled; with --simulate each run is judged against the costs measured right before and after it').argParser(integer(1)).default(SYNTHETIC_DEFAULTS.runs))
    .option('--simulate', "--synthetic: the scaling simulator's prediction beside each measured count (and its error), and on a cluster's links, flat and aggregated")
    .option('--predict <list>', '--simulate: counts only predicted, not measured, e.g. 256,1024', parseWorkerCounts, [])
    .addOption(new Option('--link-gbps <gbit/s>', "--simulate: the cluster's link bandwidth").argParser(positive('--link-gbps')).default(10))
    .addOption(new Option('--latency-ms <ms>', "--simulate: the cluster's one-way latency").argParser(nonNegative('--latency-ms')).default(0.1))
    .action(async (flags: ScaleFlags) => {
      const log = (line: string) => console.log(`${new Date().toISOString()} scale: ${line}`);
      checkScaleFlags(flags);
      let sets: string[] = [];
      if (!flags.synthetic) {
        const configName = flags.config ?? 'the built-in job';
        const config = resolve(flags.config, flags.set);
        sets = [...scaleOverrides(config, configName), ...flags.set];
        // the cut run itself must pass too (e.g. warm-up + steps against the schedule's phases)
        resolve(flags.config, [...sets, `training.maxSteps=${flags.warmup + flags.steps}`]);
      }
      const source = await measurementSource(flags, sets, log);
      let interrupted = false;
      const onSignal = () => {
        if (interrupted) return;
        interrupted = true;
        log('interrupted: stopping the run in flight; nothing will be written');
        source.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const simulate = flags.simulate ? { predictOnly: flags.predict, cluster: { linkGbps: flags.linkGbps, latencyMs: flags.latencyMs } } : undefined;
        await runScale(source, { ...flags, set: sets }, log, simulate);
      } catch (e) {
        if (!interrupted) throw e;
        process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
