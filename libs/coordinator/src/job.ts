import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AdaLoraConfig, BUILTIN_MODEL, optimizerSteps, runAdaLoraConfig, type RunConfig, type WorkerJob } from '@adalora/config';
import type { ModuleId } from '@adalora/core';
import { collate, datasetHash, loadPretokenizedJsonl, loadTextDataset, loadTokenizer, type Dataset } from '@adalora/data';
import { HfConfig, injectAdapters, inputLimits, loadEncoder, loadQaModel, loadTrainableState, ADAPTER_WEIGHTS_FILE, type InjectedAdapters, type TaskModel } from '@adalora/models';
import { checkDataFitsModel } from './data-fits-model';
import { loadQaData, type QaDev } from './qa-data';
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
  /** the frozen base model: a sequence classifier (or regressor), or for data.task 'qa' an extractive-QA model; none for a synthetic job (see prepareSyntheticJob) */
  readonly model: TaskModel | null;
  readonly injected: InjectedAdapters;
  readonly adalora: AdaLoraConfig;
  readonly optimizer: ClusterOptimizer;
  readonly train: Dataset;
  readonly dev: Dataset | null;
  /** data.task 'qa': the dev questions and windows that turn logits into answers (else null) */
  readonly qaDev: QaDev | null;
  /** model outputs per dev row: numLabels, or QA's start and end logit per token (2 × data.maxLength) */
  readonly evalWidth: number;
  readonly padId: number;
  readonly totalSteps: number;
  readonly batchesPerEpoch: number;
  /** the checkpoint folder this run continues, or null for a run from step 0 */
  readonly resumedFrom: string | null;
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
  const qaTask = data.task === 'qa';
  const labelTask = data.task === 'regression' ? 'regression' : 'classification';
  // dev labels go through the train split's map: a label training never saw is an error naming
  // its file and line, never a class id of the dev file's own sorted labels
  const readSplit = (file: string, trainSplit?: Dataset): Dataset => {
    const classes = regression ? undefined : trainSplit?.numLabels;
    if (data.format === 'pretokenized') return loadPretokenizedJsonl(file, { task: labelTask, numLabels: classes });
    const tokenizer = loadTokenizer(config.tokenizer ?? modelDir);
    return loadTextDataset(file, {
      format: data.format === 'auto' ? undefined : data.format,
      text: data.textPairColumn ? [data.textColumn, data.textPairColumn] : data.textColumn,
      label: data.labelColumn,
      labels: data.labels ?? trainSplit?.labelNames,
      labelSource: data.labels ? 'data.labels' : trainSplit ? `the labels of ${data.train}` : undefined,
      task: labelTask,
      tokenizer,
      encode: { maxLength: data.maxLength, truncation: 'longest_first' },
    });
  };
  // QA: the coordinator tokenizes and windows; workers get features (ids, masks, answer spans)
  const qa = qaTask ? loadQaData(data, loadTokenizer(config.tokenizer ?? modelDir)) : null;
  const train = qa ? qa.train : readSplit(data.train!);
  const dev = qa ? qa.dev : data.dev ? readSplit(data.dev, train) : null;
  if (qa) log(`SQuAD v${qa.version}${data.qa!.squadVersion === 'auto' ? ' (detected)' : ''}: ${qa.questions.train} train / ${qa.questions.dev} dev questions in windows of ${data.maxLength} tokens, stride ${data.qa!.docStride}`);
  // rows the model cannot embed fail here, naming file and line, not on every worker at some step
  const configPath = join(modelDir, 'config.json');
  const limits = inputLimits(HfConfig.parse(readFileSync(configPath, 'utf8'), configPath));
  if (qaTask && limits.maxLength !== null && data.maxLength > limits.maxLength) {
    // every QA window is padded to data.maxLength: say so once, not for window 1 of the file
    throw new Error(`config: 'data.maxLength' (${data.maxLength}) is longer than the model's ${limits.maxLength} positions (${limits.describe.maxLength}); QA windows are padded to it, lower it`);
  }
  checkDataFitsModel(train, limits, data.train!);
  if (dev) checkDataFitsModel(dev, limits, data.dev!);
  const t = config.training;
  // the config was checked up front; only rules that need the data's size are left, and they fail here, before any model loads
  const { batchesPerEpoch, totalSteps } = optimizerSteps(t, train.examples.length);
  const adalora = runAdaLoraConfig(config.adalora, totalSteps);
  const headSeed = t.seed;
  const loaded = qaTask ? await loadQaModel(modelDir, { headSeed }) : await loadEncoder(modelDir, { numLabels: train.numLabels, headSeed, reinitHead: config.reinitHead });
  const model = loaded.model;
  for (const w of 'mismatchedWeights' in loaded ? loaded.mismatchedWeights : []) {
    log(`WARNING: reinitHead: the checkpoint's '${w.name}' [${w.stored}] does not fit ${train.numLabels} label(s): replaced by a new [${w.created}] from training.seed`);
  }
  const dataHash = datasetHash(train);
  let injected: InjectedAdapters | null = null;
  let optimizer: ClusterOptimizer;
  let from: string | null = null;
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
    from = (config.resume === RESUME_LATEST ? latestCheckpoint(config.outputDir, log) : config.resume) ?? null;
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
  const labelled = qaTask ? 'answer spans' : `${train.numLabels} label(s)`;
  log(`data: ${train.examples.length} train / ${dev?.examples.length ?? 0} dev ${qaTask ? 'windows' : 'examples'}, ${labelled}; ${totalSteps} steps of ${t.batchSize}`);
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
    qaDev: qa?.qaDev ?? null,
    evalWidth: qaTask ? 2 * data.maxLength : train.numLabels,
    padId,
    totalSteps,
    batchesPerEpoch,
    resumedFrom: from,
    workerJob: { adalora, microBatch: t.microBatch, head: qaTask ? 'qa' : 'classification', numLabels: train.numLabels, headSeed, reinitHead: config.reinitHead, wire: config.cluster.wire },
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
