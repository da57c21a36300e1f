import { mergeConfig, RANK_RECOVERY_DEFAULTS } from '@adalora/config';

/**
 * The built-in job cut to 16 steps that still pass through warm-up, pruning and the final phase,
 * on wasm, writing to `outputDir`: the same config twice gives the same bits, so a test that
 * disturbs a run (hostile clients, faults) compares its losses with a clean one.
 */
export function shortBuiltinConfig(outputDir: string): Record<string, unknown> {
  return mergeConfig(RANK_RECOVERY_DEFAULTS, {
    outputDir,
    training: { maxSteps: 16, evalEvery: 0 },
    adalora: { tinit: 2, tfinal: 4, deltaT: 2 },
    cluster: { backend: 'wasm' },
  }) as Record<string, unknown>;
}
