/**
 * @adalora/coordinator: the coordinator of a distributed AdaLoRA run, without its CLI. It
 * prepares a job (model, data, adapters, optimizer), accepts workers over WebSocket, shards every
 * global batch among them, makes each global step once and sends the new state to all, and
 * writes metrics, checkpoints and the final PEFT adapter.
 */

/** The coordinator: `await Coordinator.create(job, options)`, then `listening()`, `train()`, `close()`. */
export { Coordinator, RunInterrupted, type CoordinatorOptions, type RunResult } from './coordinator';
/** What `train()` rejects with when a share fails on two workers (or on all there are): the data or the model is at fault. */
export { RunStopped } from './share-faults';
/** The run secret and TLS files of `cluster`, read before the model; which addresses may be listened on. */
export { loadClusterSecurity, listenPolicy, type ClusterSecurity } from './cluster-security';
/** Loads model and data and builds the adapters and optimizer state of a run, before any worker joins. */
export { prepareJob, type Job } from './job';
/** The dev metrics of an evaluation. */
export { summarizeEval, type EvalSummary } from './evaluation';
/** Metrics as the log prints them (counts as integers). */
export { formatMetrics } from './metric-format';
/** SQuAD questions windowed and scored as a QA run's dev split: `adalora predict` for QA reads and scores through these. */
export { qaEvalSplit, readSquadFile, type QaDev, type QaEvalSplitOptions } from './qa-data';
export { evaluateQa } from './qa-evaluation';
/** The kept rank per adapted matrix (beside the true rank of the built-in task), as a table. */
export { rankReport } from './rank-report';
/** What a run writes to `<outputDir>/metrics.jsonl`, and its reader (torn or foreign lines skipped). */
export { type StepMetrics, type EvalMetrics, type ConfigRecord, type EventRecord, type ResumeMetrics, type MetricsRecord } from './metrics-log';
export { readMetrics } from './metrics-file';
/** `report.html` (opens offline) and CSV files of a run folder, as `adalora report` writes them. */
export { writeRunReport, type RunReportFiles } from './run-report';
/** The status page's data (also embedded in the report), and the token its URL carries when the run has a secret. */
export { runView, type RunView } from './run-view';
export { statusToken } from './status-page';
/** The output folder guard (--overwrite): a previous run's outputs are refused, or deleted on request. */
export { claimOutputFolder, runOutputsIn, type OutputFolderPolicy } from './output-folder';

/**
 * The parts a coordinator of workers is built of, for another tier that serves workers of its
 * own (the aggregator, @adalora/aggregator): the port, its gate, the pool of links, the share
 * planner with its one covering loop, and the checks of replies.
 */
export { WorkerServer, type WorkerServerOptions } from './worker-server';
export { ConnectionGate } from './connection-gate';
export { WorkerPool, type WorkerPoolOptions } from './worker-pool';
export { type WorkerLink } from './worker-link';
export { ModelFileServer } from './model-files';
export { coverUnits, planShares, rowsOfUnits, unitsOf, type CoveredShare } from './share-planner';
export { ShareFaults } from './share-faults';
export { replyBounds } from './reply-bounds';
export { checkGradients, float64Share, type ShareGradients } from './check-gradients';

/** One step's time split (compute, coordinator sum/optimizer/allocation/encode, transfer, wait) and bytes, read from a metrics.jsonl step record. */
export { stepSplitOf, coordinatorMs, STEP_SPLIT_FIELDS, type StepSplit } from './step-split';
/** Measuring the coordinator without a model: adapter presets, a synthetic job, and a run of it with synthetic workers in this process. */
export { SYNTHETIC_PRESETS, adapterPreset, presetModules, presetValueCount, type AdapterPreset, type SyntheticPresetName } from './synthetic-presets';
export { prepareSyntheticJob, type SyntheticJobOptions } from './synthetic-job';
export { measureSynthetic, type MeasureSyntheticOptions } from './measure-synthetic';
/** The coordinator's serial work of one step, alone (for benchmarks and the simulator's calibration). */
export { shareArena } from './share-arena';
export { serialStep, serialMemory, gradientFrames, type SerialTimes, type SerialMemory } from './serial-work';
/** The scaling simulator: a step's time against worker count, flat or with aggregators, from costs measured on this machine. */
export { predictStep, predictScaling, type MachineCosts, type ScalingScenario, type PredictedStep } from './scaling-simulator';
export { describeMachineCosts, measureMachineCosts, type MeasuredCosts } from './machine-costs';
