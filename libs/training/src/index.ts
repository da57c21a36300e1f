/**
 * @adalora/training: the pieces of a data-parallel AdaLoRA step that do not care about the
 * transport: workers' gradient sums, the coordinator's global step (mean gradient, orthogonal
 * regulariser, AdamW, rank allocation), learning-rate schedules, run config and the built-in job.
 */
export { learningRate, type LrSchedule } from './lr-schedule';
export { sliceRows, gatherRows, toEncoderBatch, disposeEncoderBatch, type LabeledBatch } from './labeled-batch';
export { computeGradientSums, type GradientSums, type SharePlace } from './gradient-sums';
export { GlobalStep, type GlobalStepState, type OptimizerConfig, type StepReport } from './global-step';
export { ConfigReader } from './config-reader';
export { parseRunConfig, readConfigFile, applyOverrides, mergeConfig, BUILTIN_MODEL, type RunConfig, type DataConfig, type TrainingConfig, type ClusterConfig } from './run-config';
export { createRankRecoveryTask, RANK_RECOVERY_DEFAULTS, type RankRecoveryTask } from './rank-recovery-task';
export { mulberry32, normalSampler } from './seeded-random';
export { repoRoot, fixturesDir } from './fixture-paths';
export { loadPublicBertTrace, type PublicBertTrace, type TraceStep } from './public-bert-trace';
export { parseWorkerJob, workerJobToJson, type WorkerJob } from './worker-job';
