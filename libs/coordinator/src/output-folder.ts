import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** What a run writes into its output folder, and --overwrite clears: nothing else there is touched. */
const RUN_OUTPUT = /^(metrics\.jsonl|report\.html|metrics-steps\.csv|metrics-evals\.csv|final|best|checkpoint-\d+)$/;

/** The previous run's outputs in `dir` (names, sorted); none when the folder does not exist. */
export function runOutputsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => RUN_OUTPUT.test(name))
    .sort();
}

/** How a run may use an output folder a previous run wrote into. */
export interface OutputFolderPolicy {
  /** clear the previous run's outputs first (`--overwrite`) */
  readonly overwrite: boolean;
  /** the run continues one of its checkpoints (`--resume`): its outputs are the run's own */
  readonly resuming: boolean;
}

/**
 * Checks an output folder before anything is written to it. One holding a previous run's
 * outputs (metrics.jsonl, checkpoint-<step>/, final/, best/, the report and its CSV files) is refused, naming them, unless the
 * run resumes (its metrics are trimmed to the resume point) or `overwrite` asks to delete them.
 * Other files (a secret, a model cache, the built-in task) are inputs, left as they are.
 */
export function claimOutputFolder(dir: string, policy: OutputFolderPolicy, log: (line: string) => void): void {
  if (policy.overwrite && policy.resuming) throw new Error('--overwrite and --resume contradict each other: resuming keeps the run\'s outputs, --overwrite deletes them');
  const found = runOutputsIn(dir);
  if (found.length === 0 || policy.resuming) return;
  const listed = found.map((n) => (n.includes('.') ? n : `${n}/`)).join(', ');
  if (!policy.overwrite) {
    throw new Error(`output folder ${dir} holds a previous run's ${listed}: pass --overwrite to delete them, --resume latest to continue that run, or choose another --output`);
  }
  for (const name of found) rmSync(join(dir, name), { recursive: true, force: true });
  log(`--overwrite: deleted the previous run's ${listed} in ${dir}`);
}
