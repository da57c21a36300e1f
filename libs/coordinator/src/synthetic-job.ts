import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { optimizerSteps, parseRunConfig, runAdaLoraConfig, type RunConfig } from '@adalora/config';
import { SvdAdapter, type ModuleId, type TrainableKey } from '@adalora/core';
import type { Dataset, Example } from '@adalora/data';
import type { InjectedAdapters } from '@adalora/models';
import { ClusterOptimizer } from '@adalora/training';
import type { Variable } from '@tensorflow/tfjs';
import type { Job } from './job';
import { adapterPreset, presetModules, presetTargetModules, type SyntheticPresetName } from './synthetic-presets';

/** A run without a model or data: an adapter preset's shapes, trained on synthetic gradients. */
export interface SyntheticJobOptions {
  readonly preset: SyntheticPresetName;
  readonly steps: number;
  readonly batchSize: number;
  /** rows per micro-batch (default 8) */
  readonly microBatch?: number;
  readonly outputDir: string;
  /** workers to wait for before the first step */
  readonly minWorkers: number;
  readonly wire?: 'float64' | 'float32' | 'float16';
  readonly port?: number;
  readonly seed?: number;
}

/**
 * A Job for measuring the coordinator: the preset's AdaLoRA adapters (their real module names
 * and shapes) with the real optimizer and rank allocation, but no base model and a data set of
 * tiny placeholder rows, whose gradients synthetic workers make up (see SyntheticSession).
 * `config.model` is `synthetic:<preset>` and the model folder is empty, so a real worker
 * joining it fails to load a model rather than train on nothing. Real runs never come here.
 */
export function prepareSyntheticJob(o: SyntheticJobOptions, log: (line: string) => void): Job {
  const preset = adapterPreset(o.preset);
  const steps = o.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`synthetic job: steps must be an integer >= 1, got ${steps}`);
  // allocation from step 1 to the one before last, so most measured steps run it (peft's budget schedule)
  const schedule = steps >= 3 ? { tinit: 1, tfinal: 1, deltaT: 1 } : { tinit: 0, tfinal: 0, deltaT: 1 };
  const config: RunConfig = parseRunConfig({
    model: `synthetic:${preset.name}`,
    data: { train: `synthetic:${o.batchSize}-rows` },
    adalora: { initR: preset.initR, targetR: Math.max(1, Math.round((preset.initR * 2) / 3)), ...schedule, targetModules: presetTargetModules(preset), modulesToSave: [] },
    training: { batchSize: o.batchSize, maxSteps: steps, epochs: steps, microBatch: o.microBatch ?? 8, shuffle: false, evalEvery: 0, checkpointEvery: 0, seed: o.seed ?? 42, warmupSteps: 0 },
    cluster: { port: o.port ?? 0, minWorkers: o.minWorkers, wire: o.wire ?? 'float64', maxConnections: Math.max(64, o.minWorkers + 16), heartbeatMs: 10_000, backend: 'cpu' },
    outputDir: o.outputDir,
  });
  // one batch of rows, seen once per epoch: a step per epoch, however many steps
  const train = placeholderRows(o.batchSize);
  const { batchesPerEpoch, totalSteps } = optimizerSteps(config.training, train.examples.length);
  const adalora = runAdaLoraConfig(config.adalora, totalSteps);
  const adapters = new Map<ModuleId, SvdAdapter>();
  presetModules(preset).forEach((m, i) => adapters.set(m.id as ModuleId, new SvdAdapter({ ...m, id: m.id as ModuleId, rank: preset.initR, loraAlpha: adalora.loraAlpha, seed: i })));
  const injected: InjectedAdapters = {
    mode: 'adalora',
    adapters,
    get trainables() {
      const out = new Map<TrainableKey, Variable>();
      for (const a of adapters.values()) for (const [key, v] of a.params()) out.set(key, v);
      return out;
    },
    dispose: () => adapters.forEach((a) => a.dispose()),
  };
  const t = config.training;
  const optimizer = new ClusterOptimizer(injected, adalora, {
    weightDecay: t.weightDecay,
    beta1: t.beta1,
    beta2: t.beta2,
    eps: t.eps,
    schedule: { lr: t.lr, kind: t.schedule, warmupSteps: t.warmupSteps, totalSteps },
  });
  const modelDir = join(o.outputDir, 'synthetic-model'); // empty: nothing to serve
  mkdirSync(modelDir, { recursive: true });
  const shapes = [...injected.trainables].map(([k, v]) => `${k}:${v.shape.join('x')}`).join(',');
  const modelHash = createHash('sha256').update(`synthetic:${preset.name}\n${shapes}`).digest('hex');
  const dataHash = createHash('sha256').update(`synthetic:${train.examples.length}`).digest('hex');
  const runId = createHash('sha256').update(JSON.stringify({ config, adalora })).update(modelHash).digest('hex').slice(0, 16);
  let values = 0;
  for (const v of injected.trainables.values()) values += v.size;
  log(`synthetic job ${preset.name}: ${adapters.size} adapted matrices, ${values} trainable values; ${totalSteps} steps of ${o.batchSize}`);
  return {
    config,
    runId,
    modelDir,
    modelHash,
    dataHash,
    model: null,
    injected,
    adalora,
    optimizer,
    train,
    dev: null,
    qaDev: null,
    evalWidth: train.numLabels,
    resumedFrom: null,
    padId: 0,
    totalSteps,
    batchesPerEpoch,
    workerJob: { adalora, microBatch: t.microBatch, head: 'classification', numLabels: train.numLabels, headSeed: t.seed, reinitHead: false, wire: config.cluster.wire },
    trueRanks: null,
    dispose: () => injected.dispose(),
  };
}

/** `rows` rows of three tokens, two classes: what compute messages carry to synthetic workers. */
function placeholderRows(rows: number): Dataset {
  const examples: Example[] = Array.from({ length: rows }, (_, i) => ({ inputIds: Int32Array.of(101, 1000 + (i % 100), 102), label: i % 2 }));
  return { examples, numLabels: 2 };
}
