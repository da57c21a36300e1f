import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const CHECKPOINT = /^checkpoint-(\d+)$/;

/**
 * `training.saveTotalLimit`, as HF's save_total_limit: keeps the newest `limit` checkpoint-<step>
 * folders of `outputDir` and deletes the older ones, never `protect` (the checkpoint the run
 * resumed from: a restart must still find it). final/ and best/ are not counted.
 */
export function pruneCheckpoints(outputDir: string, limit: number, protect: string | null, log: (line: string) => void): string[] {
  if (!existsSync(outputDir)) return [];
  const steps = readdirSync(outputDir)
    .map((name) => CHECKPOINT.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  const kept = protect === null ? null : resolve(protect);
  const removed: string[] = [];
  for (const step of steps.slice(limit)) {
    const dir = join(outputDir, `checkpoint-${step}`);
    if (resolve(dir) === kept) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  if (removed.length > 0) log(`saveTotalLimit ${limit}: deleted ${removed.join(', ')}`);
  return removed;
}
