/** One row of the rank heatmap: an adapted matrix, its layer and its type within the layer. */
export interface HeatmapRow {
  readonly module: string;
  /** the encoder layer index, or null for a matrix outside the layers (e.g. a pooler) */
  readonly layer: number | null;
  /** the module id after `layer.<n>.`, e.g. `attention.self.query` */
  readonly type: string;
}

const LAYER = /(?:^|\.)layers?\.(\d+)\.(.+)$/;

/**
 * The heatmap's rows: matrices grouped by layer (in layer order, matrices outside the layers
 * last), within a layer in the order the model lists them (query, key, value, … as injected).
 */
export function heatmapRows(modules: readonly string[]): HeatmapRow[] {
  const rows = modules.map((module) => {
    const m = LAYER.exec(module);
    return m ? { module, layer: Number(m[1]), type: m[2] } : { module, layer: null, type: module };
  });
  const order = (r: HeatmapRow) => r.layer ?? Number.MAX_SAFE_INTEGER;
  return rows.map((r, i) => ({ r, i })).sort((a, b) => order(a.r) - order(b.r) || a.i - b.i).map(({ r }) => r);
}

/** Runs of at most this many steps get one heatmap column per step. */
export const EVERY_STEP_UP_TO = 120;

/**
 * The heatmap's columns, as indices into the steps: every step of a short run; for a longer one
 * the first step, every masking step whose kept ranks differ from the column before, and the
 * last step. Between masking steps the masked singular values grow back (as in peft, whose
 * masking only zeroes them), so masking steps are where the allocation shows.
 */
export function heatmapColumns(steps: readonly { readonly kept: Readonly<Record<string, number>>; readonly maskApplied: boolean }[]): number[] {
  if (steps.length <= EVERY_STEP_UP_TO) return steps.map((_, i) => i);
  const columns: number[] = [0];
  for (let i = 1; i < steps.length - 1; i++) {
    if (steps[i].maskApplied && !sameRanks(steps[i].kept, steps[columns.at(-1)!].kept)) columns.push(i);
  }
  columns.push(steps.length - 1);
  return columns;
}

/** True when both hold the same rank for every matrix. */
export function sameRanks(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
