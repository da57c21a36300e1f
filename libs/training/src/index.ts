/**
 * @adalora/training: the pieces of a data-parallel AdaLoRA step that do not care about the
 * transport: workers' gradient sums, the coordinator's global step (mean gradient, orthogonal
 * regulariser, AdamW, rank allocation), learning-rate schedules and the built-in job's data. The
 * run config and the job sent to workers are `@adalora/config`'s.
 */
export { learningRate, type LrSchedule } from './lr-schedule';
export { sliceRows, gatherRows, toEncoderInputs, disposeEncoderInputs } from './sample-rows';
export { computeGradientSums, type GradientSums, type SharePlace } from './gradient-sums';
export { evalOutputs, evalWidth, taskLabelTensors, taskLossSum } from './task-loss';
export { ClusterOptimizer, type ClusterOptimizerState, type OptimizerConfig, type StepReport } from './cluster-optimizer';
export { OrthogonalGradient } from './orthogonal-gradient';
export { createRankRecoveryTask, createTeacherModel, type RankRecoveryTask, type TeacherModel, type TeacherShape, type TeacherSpec } from './rank-recovery-task';
