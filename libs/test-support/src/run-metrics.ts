import { join } from 'node:path';
import { readMetrics, type StepMetrics } from '@adalora/coordinator';

/** The per-step losses a run wrote to `<outputDir>/metrics.jsonl`, in step order (steps 1, 2, …). */
export function stepLosses(outputDir: string): number[] {
  return readMetrics(join(outputDir, 'metrics.jsonl'))
    .filter((m): m is StepMetrics => m.kind === 'step')
    .map((m) => m.loss);
}
