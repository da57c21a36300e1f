import { Command, InvalidArgumentError, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_MODEL, optimizerSteps, parseBackendChoice, RANK_RECOVERY_SAMPLES, type RunConfig } from '@adalora/config';
import type { MeasurementSource } from './measurement-source';
import { RunMeasurement } from './run-measurement';
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
}

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
 * The source the flags ask for: real runs, with local worker processes or with workers started
 * elsewhere. (Synthetic workers and the simulator are other MeasurementSources, chosen here.)
 */
function measurementSource(flags: ScaleFlags, sets: readonly string[], log: (line: string) => void): MeasurementSource {
  if (!flags.external && (flags.host !== undefined || flags.port !== undefined)) throw new Error('--host and --port are for --external (local runs listen on loopback, on a free port)');
  const runFlags = flags.external
    ? [...(flags.host !== undefined ? ['--host', flags.host] : []), ...(flags.port !== undefined ? ['--port', String(flags.port)] : [])]
    : ['--worker-backend', parseBackendChoice(flags.workerBackend)];
  return new RunMeasurement({ workers: flags.external ? 'external' : 'local', configFile: flags.config, sets, runFlags, runsDir: join(flags.output, 'runs'), log });
}

/** Measures every count in turn, then writes scale.csv, scale.json and scale.html and prints the table. */
export async function runScale(source: MeasurementSource, flags: Pick<ScaleFlags, 'workers' | 'warmup' | 'steps' | 'output' | 'config' | 'set'>, log: (line: string) => void): Promise<ScaleReport> {
  const measurements: Measurement[] = [];
  for (const workers of flags.workers) {
    log(`measuring ${workers} worker(s): ${flags.warmup} warm-up + ${flags.steps} measured steps (${source.description})`);
    const m = await source.measure({ workers, warmupSteps: flags.warmup, steps: flags.steps });
    const fewer = m.workersSeen?.filter((n) => n !== workers).length ?? 0;
    if (fewer > 0) log(`warning: ${fewer} of the ${m.steps.length} measured steps at ${workers} worker(s) were served by another number of workers (a worker joined late, left or was dropped)`);
    measurements.push(m);
  }
  const rows = scaleTable(measurements);
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
  };
  mkdirSync(flags.output, { recursive: true });
  writeFileSync(join(flags.output, 'scale.csv'), scaleCsv(rows));
  writeFileSync(join(flags.output, 'scale.json'), scaleJson(report));
  writeFileSync(join(flags.output, 'scale.html'), scaleHtml(report));
  console.log(`\n${formatScaleTable(rows)}`);
  console.log(`medians over ${flags.steps} measured steps per count (samples/s: interquartile range in brackets); speed-up and efficiency against ${rows[0].workers} worker(s)`);
  if (report.splitNote) console.log(`– : not measured separately (${report.splitNote})`);
  console.log(`wrote ${['scale.csv', 'scale.json', 'scale.html'].map((f) => join(flags.output, f)).join(', ')}`);
  return report;
}

/**
 * Adds `adalora scale` to the CLI. `resolve` is the CLI's own config resolution (file, built-in
 * defaults, --set), used to refuse a bad config before any run starts. This module loads no
 * tfjs: the measured runs are child processes.
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
    .action(async (flags: ScaleFlags) => {
      const log = (line: string) => console.log(`${new Date().toISOString()} scale: ${line}`);
      const configName = flags.config ?? 'the built-in job';
      const config = resolve(flags.config, flags.set);
      const sets = [...scaleOverrides(config, configName), ...flags.set];
      // the cut run itself must pass too (e.g. warm-up + steps against the schedule's phases)
      resolve(flags.config, [...sets, `training.maxSteps=${flags.warmup + flags.steps}`]);
      const source = measurementSource(flags, sets, log);
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
        await runScale(source, { ...flags, set: sets }, log);
      } catch (e) {
        if (!interrupted) throw e;
        process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
