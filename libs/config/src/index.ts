/**
 * @adalora/config: every setting of a run, checked before anything runs. Plain data in, a
 * read-only config out, and errors that name the field as the user wrote it
 * (`adalora.target_r`, `training.lr`). Imports no TensorFlow.js and no other workspace project,
 * so the CLI can refuse a bad config before it loads a backend, a model or the data.
 *
 * - AdaLoRA's hyper-parameters: {@link parseAdaLoraConfig}, or {@link parseAdaLoraDraft} then
 *   {@link finishAdaLoraConfig} when `total_step` defaults to a step count known later;
 * - the run: {@link readConfigFile} → {@link mergeConfig} / {@link applyOverrides} →
 *   {@link parseRunConfig}, then {@link runAdaLoraConfig} once the run's steps are counted
 *   ({@link optimizerSteps});
 * - what the coordinator sends a worker: {@link workerJobToJson} / {@link parseWorkerJob};
 * - the built-in job's defaults and the tfjs backend names;
 * - what the CLIs share: option value parsers and the environment variables they read.
 */
export {
  ADALORA_CONFIG_FIELDS,
  AdaLoraConfigError,
  finishAdaLoraConfig,
  parseAdaLoraConfig,
  parseAdaLoraDraft,
  type AdaLoraConfig,
  type AdaLoraConfigDraft,
  type AdaLoraParseOptions,
  type AdapterMode,
} from './adalora-config';
export { applyOverrides, mergeConfig, parseRunConfig, readConfigFile, type ClusterConfig, type DataConfig, type QaDataConfig, type RunConfig, type TrainingConfig } from './run-config';
export { runAdaLoraConfig } from './run-adalora-config';
export { optimizerSteps, type OptimizerSteps } from './optimizer-steps';
export { BUILTIN_MODEL, RANK_RECOVERY_DEFAULTS, RANK_RECOVERY_SAMPLES } from './rank-recovery-defaults';
export { parseWorkerJob, workerJobToJson, type WorkerJob } from './worker-job';
export { BACKEND_CHOICES, parseBackendChoice, type BackendChoice } from './backend-choice';
export { finiteNumber, integerAtLeast, parseDuration } from './cli-values';
export { CLI_ENV, type CliEnvName } from './cli-env';
