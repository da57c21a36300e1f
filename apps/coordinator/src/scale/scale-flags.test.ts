import test from 'ava';
import { checkScaleFlags, type ScaleFlags } from './scale-command';

// the flags as commander gives them with every default
const defaults: ScaleFlags = { set: [], workers: [1, 2], warmup: 5, steps: 20, output: 'runs/scale', workerBackend: 'auto', preset: 'bert-base-r12', sampleMs: 5, rowsPerWorker: 8, workersIn: 'this-process', runs: 1, predict: [], linkGbps: 10, latencyMs: 0.1 };

test('--runs is a synthetic-worker flag: refused without --synthetic, by name, and taken with it', (t) => {
  t.throws(() => checkScaleFlags({ ...defaults, runs: 3 }), { message: '--runs: only with --synthetic' });
  t.notThrows(() => checkScaleFlags({ ...defaults }));
  t.notThrows(() => checkScaleFlags({ ...defaults, synthetic: true, runs: 3, simulate: true }));
});
