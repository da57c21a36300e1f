import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { savePeftAdapter } from '@adalora/models';
import type { Job } from './job';
import { writeStateFiles } from './trainer-state-file';

/**
 * Saves a checkpoint: the PEFT adapter (resized to the current rank pattern, loadable by peft)
 * plus the trainer state (step, optimizer, allocator) a resumed run needs. Written to a
 * temporary folder and renamed, so an interrupted save never replaces a good checkpoint.
 */
export async function saveCheckpoint(dir: string, job: Job, extra: Record<string, unknown>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await savePeftAdapter(join(tmp, 'adapter'), {
    injected: job.injected,
    config: job.adalora,
    rankPattern: job.optimizer.rankPattern(),
    baseModelPath: job.modelDir,
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
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
