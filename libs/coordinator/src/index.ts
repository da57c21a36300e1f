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
export { type EvalSummary } from './evaluation';
/** Metrics as the log prints them (counts as integers). */
export { formatMetrics } from './metric-format';
/** SQuAD questions windowed and scored as a QA run's dev split: `adalora predict` for QA reads and scores through these. */
export { qaEvalSplit, readSquadFile, type QaDev, type QaEvalSplitOptions } from './qa-data';
export { evaluateQa } from './qa-evaluation';
/** The kept rank per adapted matrix (beside the true rank of the built-in task), as a table. */
export { rankReport } from './rank-report';
/** What a run writes to `<outputDir>/metrics.jsonl`. */
export { type StepMetrics, type EvalMetrics } from './metrics-log';
