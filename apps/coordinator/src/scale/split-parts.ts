// The measured step's fields, in a module that loads nothing else: `adalora scale` checks its
// flags and formats its files without loading tfjs (step-record.ts reads metrics through
// @adalora/coordinator, which does).

/**
 * One measured step, as every measurement source of `adalora scale` gives it (real workers,
 * synthetic workers, the simulator): its samples and wall time, and where the time and the
 * bytes went. A part a source does not measure separately is null (shown as "–"), never guessed.
 */
export interface StepRecord {
  readonly samples: number;
  readonly totalMs: number;
  /** the slowest worker's own compute */
  readonly computeMs: number | null;
  /** the coordinator's serial work: summing the gradients, the optimizer, the rank allocation, encoding the state */
  readonly sumMs: number | null;
  readonly optimizerMs: number | null;
  readonly allocationMs: number | null;
  readonly encodeMs: number | null;
  /** moving the state out to the workers */
  readonly transferMs: number | null;
  /** gathering the gradients beyond the slowest worker's compute */
  readonly waitMs: number | null;
  /** bytes the coordinator received and sent in the step */
  readonly bytesIn: number | null;
  readonly bytesOut: number | null;
}

/** The parts of a step's time, in the order the table and the stacked bars show them. */
export const SPLIT_PARTS = ['computeMs', 'sumMs', 'optimizerMs', 'allocationMs', 'encodeMs', 'transferMs', 'waitMs'] as const;
export type SplitPart = (typeof SPLIT_PARTS)[number];
/** The parts that are the coordinator's serial work. */
export const COORDINATOR_PARTS: readonly SplitPart[] = ['sumMs', 'optimizerMs', 'allocationMs', 'encodeMs'];
