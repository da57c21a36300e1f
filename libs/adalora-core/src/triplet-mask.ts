import type { ModuleId } from './module-id';

/**
 * peft's `mask_to_budget` selection: over all triplets of all modules, the threshold is the
 * k-th smallest score (1-based, `torch.kthvalue`) and every triplet with S ≤ threshold is
 * masked, so ties at the threshold are all masked. k ≤ 0 masks nothing; k ≥ the number of
 * triplets masks everything. Returns per module one flag per triplet, true = kept.
 */
export function tripletMask(scores: ReadonlyMap<ModuleId, Float32Array>, k: number): Map<ModuleId, boolean[]> {
  const keep = new Map<ModuleId, boolean[]>();
  let total = 0;
  for (const s of scores.values()) total += s.length;
  if (k <= 0) {
    for (const [id, s] of scores) keep.set(id, Array.from(s, () => true));
    return keep;
  }
  if (k >= total) {
    for (const [id, s] of scores) keep.set(id, Array.from(s, () => false));
    return keep;
  }
  const all = new Float32Array(total);
  let at = 0;
  for (const s of scores.values()) {
    all.set(s, at);
    at += s.length;
  }
  all.sort(); // typed-array sort is numeric, ascending
  const threshold = all[k - 1];
  for (const [id, s] of scores) keep.set(id, Array.from(s, (v) => !(v <= threshold)));
  return keep;
}
