import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkManifest, CheckpointIntegrityError } from './checkpoint-manifest';

/** `resume: latest`: the newest intact checkpoint of the run's own output folder. */
export const RESUME_LATEST = 'latest';

const CHECKPOINT = /^checkpoint-(\d+)$/;

/** The checkpoint folders of an output folder, newest first: `final/`, then `checkpoint-<step>` by step. */
export function checkpointsOf(outputDir: string): string[] {
  if (!existsSync(outputDir)) return [];
  const steps = readdirSync(outputDir)
    .map((name) => CHECKPOINT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && statSync(join(outputDir, m[0])).isDirectory())
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  const final = existsSync(join(outputDir, 'final')) ? [join(outputDir, 'final')] : [];
  return [...final, ...steps.map((s) => join(outputDir, `checkpoint-${s}`))];
}

/**
 * The newest checkpoint of `outputDir` whose files match its manifest. A truncated or changed
 * one is logged (which file, why) and the one before it is tried. Null when the folder holds no
 * checkpoint at all (the run starts at step 0); an error naming each fault when it holds some
 * but none is intact, since starting over would silently throw their training away.
 */
export function latestCheckpoint(outputDir: string, log: (line: string) => void): string | null {
  const all = checkpointsOf(outputDir);
  const faults: string[] = [];
  for (const dir of all) {
    try {
      checkManifest(dir);
      return dir;
    } catch (e) {
      if (!(e instanceof CheckpointIntegrityError)) throw e;
      log(`not resuming from ${dir}: ${e.file}: ${e.why}; trying the previous checkpoint`);
      faults.push(`${dir}: ${e.file}: ${e.why}`);
    }
  }
  if (all.length > 0) throw new Error(`resume latest: no intact checkpoint in ${outputDir} (${faults.join('; ')})`);
  return null;
}
