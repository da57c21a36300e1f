/**
 * What the CLI runs once a config is valid, behind one module so that main.ts loads it with one
 * dynamic import: all of it loads TensorFlow.js (a second or more), which a refused config or
 * `--help` must not wait for.
 */
export { loadBackend } from '@adalora/backend';
export { claimOutputFolder, Coordinator, formatMetrics, listenPolicy, loadClusterSecurity, prepareJob, rankReport, RunInterrupted, writeRunReport, type ClusterSecurity, type Job } from '@adalora/coordinator';
export { checkOutputFolder, mergeCommand } from './merge-command';
export { predictCommand } from './predict-command';
export { predictQa } from './predict-qa';
export { startLocalWorkers, stopLocalWorkers } from './local-workers';
