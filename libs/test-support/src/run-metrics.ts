import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepMetrics } from '@adalora/coordinator';

/** The per-step losses a run wrote to `<outputDir>/metrics.jsonl`, in step order. */
export function stepLosses(outputDir: string): number[] {
  return readFileSync(join(outputDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { kind: string })
    .filter((m): m is StepMetrics => m.kind === 'step')
    .map((m) => m.loss);
}
