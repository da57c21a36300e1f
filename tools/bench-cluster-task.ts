// The model and data of the cluster benchmarks: a random BERT large enough that a step is
// compute-bound (its workers' forward and backward dwarf the coordinator's work), labelled by
// a teacher so the run is a real regression.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32, uniform01 } from '@adalora/core';
import { createTeacherModel } from '@adalora/training';

// Hidden 256, 64 tokens by default. BENCH_SIZE=small: hidden 128, 32 tokens (the size until
// 2026-12-02), ≈ 6× less compute per row, where a worker's fixed per-step costs (messages, the
// state, tfjs's per-op overhead: ≈ 100 ms of CPU a step there) weigh enough that a second
// worker on this 2-core machine gave only 1.2× the throughput: not the compute-bound config the
// benches are meant to time.
const LARGE = process.env.BENCH_SIZE !== 'small';
export const BENCH_SHAPE = LARGE
  ? ({ vocab: 1000, hidden: 256, layers: 2, heads: 4, intermediate: 1024, maxPositions: 128 } as const)
  : ({ vocab: 1000, hidden: 128, layers: 2, heads: 4, intermediate: 512, maxPositions: 64 } as const);
export const BENCH_SEQ = LARGE ? 64 : 32;
export const BENCH_ROWS = 256;

/** Writes base-model/ and train.jsonl under `dir`; returns the raw run config of the benches (without mode, ranks and steps). */
export async function writeBenchTask(dir: string): Promise<Record<string, unknown>> {
  const uniform = uniform01(mulberry32(7));
  const rows = Array.from({ length: BENCH_ROWS }, () => Array.from({ length: BENCH_SEQ }, () => 1 + Math.floor(uniform() * (BENCH_SHAPE.vocab - 1))));
  const teacher = await createTeacherModel(join(dir, 'base-model'), { shape: BENCH_SHAPE, ranks: [{ 'attention.self.query': 2 }], seed: 7 }, rows);
  mkdirSync(dir, { recursive: true });
  const train = join(dir, 'train.jsonl');
  writeFileSync(train, rows.map((ids, i) => JSON.stringify({ input_ids: ids, label: teacher.labels[i] })).join('\n') + '\n');
  return {
    model: teacher.modelDir,
    data: { train, format: 'pretokenized', task: 'regression', metric: 'pearson' },
    training: { batchSize: 32, microBatch: 8, epochs: 100, lr: 1e-3, evalEvery: 0, checkpointEvery: 0, seed: 1 },
  };
}
