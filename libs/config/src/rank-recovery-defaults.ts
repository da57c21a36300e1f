/** The `model` that names the built-in rank-recovery job instead of a checkpoint dir. */
export const BUILTIN_MODEL = 'builtin:rank-recovery';

/**
 * Rows of the built-in task's splits. A constant apart from the task's generator (which loads
 * tfjs and a model) so the run config can count the built-in job's steps before anything runs.
 */
export const RANK_RECOVERY_SAMPLES = Object.freeze({ train: 4096, dev: 512 });

/**
 * The built-in job's run config (a user's config and flags override any of it): 6 epochs of
 * 4096 rows in batches of 32 = 768 steps (≈ 30 s on 2 local workers); 128 steps at full rank,
 * pruning to the budget of 12 until step 512, then 256 steps at the final ranks.
 */
export const RANK_RECOVERY_DEFAULTS = {
  model: BUILTIN_MODEL,
  outputDir: 'runs/rank-recovery',
  data: { format: 'pretokenized', task: 'regression', metric: 'pearson' },
  adalora: {
    init_r: 6,
    target_r: 1,
    tinit: 128,
    tfinal: 256,
    deltaT: 8,
    lora_alpha: 12,
    orth_reg_weight: 0.3,
    target_modules: ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'],
  },
  training: { batchSize: 32, epochs: 6, lr: 2e-2, schedule: 'linear', warmupSteps: 8, microBatch: 8, evalEvery: 128, seed: 1234 },
} as const;
