import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { savePeftAdapter } from '@adalora/models';
import { fsyncDir, writeManifest } from './checkpoint-manifest';
import type { Job } from './job';
import { writeStateFiles } from './trainer-state-file';

/** Leftovers of a checkpoint write that did not finish: `<name>.tmp-<pid>` and `<name>.old-<pid>`. */
const STALE_WRITE = /^(checkpoint-\d+|final|best)\.(tmp|old)-\d+$/;

/**
 * Saves a checkpoint: the PEFT adapter (resized to the current rank pattern, loadable by peft)
 * plus the trainer state (step, optimizer, allocator) a resumed run needs, and a manifest with
 * the SHA-256 of every file. Written atomically: into a temporary folder, every file fsynced,
 * the manifest last, then renamed into place and the parent folder fsynced, so a crash at any
 * point leaves either the previous checkpoint or the new one, never a mix. Leftovers of an
 * earlier interrupted write in the same parent folder are removed (and logged) first.
 */
export async function saveCheckpoint(dir: string, job: Job, extra: Record<string, unknown>, log: (line: string) => void): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  removeStaleWrites(parent, log);
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  await savePeftAdapter(join(tmp, 'adapter'), {
    injected: job.injected,
    config: job.adalora,
    rankPattern: job.optimizer.rankPattern(),
    // peft's task types: the head a loader puts on the base (AutoModelForQuestionAnswering for QA)
    taskType: job.config.data.task === 'qa' ? 'QUESTION_ANS' : 'SEQ_CLS',
    baseModelPath: job.modelDir,
    // merge and predict check the base by this hash, and name the classes by these labels
    base: { baseModelSha256: job.modelHash, numLabels: job.train.numLabels, labels: job.train.labelNames ?? null },
  });
  writeStateFiles(join(tmp, 'trainer_state.json'), join(tmp, 'trainer_state.safetensors'), {
    runId: job.runId,
    modelHash: job.modelHash,
    dataHash: job.dataHash,
    adalora: job.adalora,
    ...extra,
    optimizer: job.optimizer.exportState(),
    trainables: Object.fromEntries(job.optimizer.snapshot()),
  });
  writeFileSync(join(tmp, 'run_config.json'), JSON.stringify(job.config, null, 2));
  writeManifest(tmp);
  // an existing checkpoint of the same name (final/, or a rerun) is moved aside, not deleted, until the new one is in place
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  fsyncDir(parent);
  rmSync(old, { recursive: true, force: true });
}

/** Removes `<checkpoint>.tmp-<pid>` / `.old-<pid>` folders left by a write that was killed. */
function removeStaleWrites(parent: string, log: (line: string) => void): void {
  for (const name of readdirSync(parent)) {
    if (!STALE_WRITE.test(name)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    log(`removed ${join(parent, name)}, left by an interrupted checkpoint write`);
  }
}

/** The checkpoint folder name of a step. */
export function checkpointName(step: number): string {
  return `checkpoint-${step}`;
}
