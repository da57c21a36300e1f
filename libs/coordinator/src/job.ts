import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AdaLoraConfig, BUILTIN_MODEL, optimizerSteps, runAdaLoraConfig, type RunConfig, type WorkerJob } from '@adalora/config';
import type { ModuleId } from '@adalora/core';
import { collate, datasetHash, loadPretokenizedJsonl, loadTextDataset, loadTokenizer, type Dataset } from '@adalora/data';
import { HfConfig, injectAdapters, inputLimits, loadEncoder, loadTrainableState, ADAPTER_WEIGHTS_FILE, type EncoderModel, type InjectedAdapters } from '@adalora/models';
import { checkDataFitsModel } from './data-fits-model';
import { latestCheckpoint, RESUME_LATEST } from './latest-checkpoint';
import { resumeFromCheckpoint } from './resume';
import type { SampleBatch } from '@adalora/protocol';
import { createRankRecoveryTask, ClusterOptimizer } from '@adalora/training';

/** Everything the coordinator needs for a run, prepared once before any worker is accepted. */
export interface Job {
  readonly config: RunConfig;
  readonly runId: string;
  readonly modelDir: string;
  readonly modelHash: string;
  readonly dataHash: string;
  /** the frozen base model (none for a synthetic job: see prepareSyntheticJob) */
  readonly model: EncoderModel | null;
  readonly injected: InjectedAdapters;
  readonly adalora: AdaLoraConfig;
  readonly optimizer: ClusterOptimizer;
  readonly train: Dataset;
  readonly dev: Dataset | null;
  readonly padId: number;
  readonly totalSteps: number;
  readonly batchesPerEpoch: number;
  readonly workerJob: WorkerJob;
  /** the built-in job's true ranks per matrix, to print beside the recovered ones */
  readonly trueRanks: ReadonlyMap<ModuleId, number> | null;
  dispose(): void;
}

/** Loads model and data, builds the adapters and the optimizer state. Errors name the input at fault. */
export async function prepareJob(config: RunConfig, log: (line: string) => void): Promise<Job> {
  let { data } = config;
  let modelDir = config.model;
  let trueRanks: ReadonlyMap<ModuleId, number> | null = null;
  if (config.model === BUILTIN_MODEL) {
    const task = await createRankRecoveryTask(join(config.outputDir, 'task'), config.training.seed);
    log(`built-in rank-recovery task written to ${join(config.outputDir, 'task')}`);
    modelDir = task.modelDir;
    data = { ...data, train: task.trainFile, dev: task.devFile, format: 'pretokenized' };
    trueRanks = task.trueRanks;
  }
  const regression = data.task === 'regression';
  const readSplit = (file: string): Dataset => {
    if (data.format === 'pretokenized') return loadPretokenizedJsonl(file, { task: data.task });
    const tokenizer = loadTokenizer(config.tokenizer ?? modelDir);
    return loadTextDataset(file, {
      format: data.format === 'auto' ? undefined : data.format,
      text: data.textPairColumn ? [data.textColumn, data.textPairColumn] : data.textColumn,
      label: data.labelColumn,
      labels: data.labels,
      task: data.task,
      tokenizer,
      encode: { maxLength: data.maxLength, truncation: 'longest_first' },
    });
  };
  const train = readSplit(data.train!);
  const dev = data.dev ? readSplit(data.dev) : null;
  // rows the model cannot embed fail here, naming file and line, not on every worker at some step
  const configPath = join(modelDir, 'config.json');
  const limits = inputLimits(HfConfig.parse(readFileSync(configPath, 'utf8'), configPath));
  checkDataFitsModel(train, limits, data.train!);
  if (dev) checkDataFitsModel(dev, limits, data.dev!);
  if (dev && dev.numLabels !== train.numLabels && !regression) {
    throw new Error(`data.dev has ${dev.numLabels} classes but data.train has ${train.numLabels}; give data.labels to fix the mapping`);
  }
  const t = config.training;
  // the config was checked up front; only rules that need the data's size are left, and they fail here, before any model loads
  const { batchesPerEpoch, totalSteps } = optimizerSteps(t, train.examples.length);
  const adalora = runAdaLoraConfig(config.adalora, totalSteps);
  const headSeed = t.seed;
  const loaded = await loadEncoder(modelDir, { numLabels: train.numLabels, headSeed });
  const model = loaded.model;
  const dataHash = datasetHash(train);
  let injected: InjectedAdapters | null = null;
  let optimizer: ClusterOptimizer;
  try {
    injected = injectAdapters(model, adalora);
    if (config.initAdapter) {
      loadTrainableState(join(config.initAdapter, ADAPTER_WEIGHTS_FILE), injected);
      log(`initial adapter state from ${config.initAdapter}`);
    }
    optimizer = new ClusterOptimizer(injected, adalora, {
      weightDecay: t.weightDecay,
      beta1: t.beta1,
      beta2: t.beta2,
      eps: t.eps,
      schedule: { lr: t.lr, kind: t.schedule, warmupSteps: t.warmupSteps, totalSteps },
    });
    const from = config.resume === RESUME_LATEST ? latestCheckpoint(config.outputDir, log) : config.resume;
    if (from) {
      const step = resumeFromCheckpoint(from, { optimizer, injected, adalora, modelHash: loaded.hash, dataHash });
      log(`resumed from ${from} at step ${step}`);
    } else if (config.resume === RESUME_LATEST) log(`resume latest: no checkpoint in ${config.outputDir} yet, starting at step 0`);
  } catch (e) {
    // a bad initial adapter or checkpoint leaves nothing allocated behind
    injected?.dispose();
    model.dispose();
    throw e;
  }
  const adapters: InjectedAdapters = injected; // set: the catch above rethrows
  const runId = createHash('sha256')
    .update(JSON.stringify({ config, adalora }))
    .update(loaded.hash)
    .update(dataHash)
    .digest('hex')
    .slice(0, 16);
  const padId = loaded.config.has('pad_token_id') ? loaded.config.integer('pad_token_id') : 0;
  log(`model ${loaded.config.string('model_type')} from ${modelDir}: ${adapters.adapters.size} adapted matrices, ${countValues(adapters)} trainable values`);
  log(`data: ${train.examples.length} train / ${dev?.examples.length ?? 0} dev examples, ${train.numLabels} label(s); ${totalSteps} steps of ${t.batchSize}`);
  return {
    config: { ...config, data },
    runId,
    modelDir,
    modelHash: loaded.hash,
    dataHash,
    model,
    injected: adapters,
    adalora,
    optimizer,
    train,
    dev,
    padId,
    totalSteps,
    batchesPerEpoch,
    workerJob: { adalora, microBatch: t.microBatch, numLabels: train.numLabels, headSeed, wire: config.cluster.wire },
    trueRanks,
    dispose() {
      adapters.dispose();
      model.dispose();
    },
  };
}

/** Rows `ids` of a data set, padded to their longest row, as one batch. */
export function batchOf(dataset: Dataset, ids: readonly number[], padId: number, regression: boolean): SampleBatch {
  return collate(
    ids.map((i) => dataset.examples[i]),
    { padId, regression },
  );
}

function countValues(injected: InjectedAdapters): number {
  let n = 0;
  for (const v of injected.trainables.values()) n += v.size;
  return n;
}
