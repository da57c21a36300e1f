import type { ModuleId } from '@adalora/core';

/**
 * A table of the kept rank per adapted matrix (from the final rank pattern), with the true rank
 * beside it when the job knows it (the built-in rank-recovery task).
 */
export function rankReport(pattern: ReadonlyMap<string, readonly boolean[]> | null, trueRanks: ReadonlyMap<ModuleId, number> | null): string {
  if (!pattern) return 'no rank pattern (LoRA mode, or the run ended before the first masking step)';
  const ids = [...pattern.keys()];
  const width = Math.max(...ids.map((id) => id.length));
  const lines = [`${'matrix'.padEnd(width)}  ${trueRanks ? 'true  ' : ''}kept`];
  let agree = 0;
  for (const id of ids) {
    const kept = pattern.get(id)!.filter(Boolean).length;
    const truth = trueRanks?.get(id as ModuleId);
    if (truth !== undefined && (truth > 0) === (kept > 0)) agree++;
    lines.push(`${id.padEnd(width)}  ${truth !== undefined ? String(truth).padStart(4) + '  ' : trueRanks ? '   ?  ' : ''}${String(kept).padStart(4)}`);
  }
  if (trueRanks) lines.push(`matrices where kept > 0 exactly when the teacher changed them: ${agree}/${ids.length}`);
  return lines.join('\n');
}
