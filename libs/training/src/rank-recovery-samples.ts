/**
 * Rows of the built-in task's splits. A constant apart from the task's generator (which loads
 * tfjs and a model) so the run config can count the built-in job's steps before anything runs.
 */
export const RANK_RECOVERY_SAMPLES = Object.freeze({ train: 4096, dev: 512 });
