// The scaling simulator, checked and used: measures the coordinator's costs on this machine,
// runs the BERT-base adapter set with synthetic workers in this process at a few worker counts
// (default 8, 32, 128; `tsx tools/simulate-scaling.ts 8 32` for others), prints the prediction
// beside each measurement (target: within 15 %), then predicts 1 … 1,024 workers on 10 Gbit/s
// links, flat and with aggregators.
import { cpus, loadavg } from 'node:os';
import { loadBackend } from '@adalora/backend';
import { describeMachineCosts, measureMachineCosts, measureSynthetic, predictStep, presetValueCount, SYNTHETIC_PRESETS, type MeasuredCosts, type ScalingScenario } from '@adalora/coordinator';
import { median } from './bench-timing';

const PRESET = 'bert-base-r12' as const;
const ROWS = 8; // rows per worker per step
const SAMPLE_MS = Number(process.env.SAMPLE_MS ?? 5); // synthetic compute per sample
// WORKERS_IN=child: the synthetic connections in one child process (their work beside the coordinator's, not on its thread)
const SEPARATE = process.env.WORKERS_IN === 'child';
const counts = process.argv.slice(2).map(Number);
const measured = counts.length > 0 ? counts : [8, 32, 128];
if (measured.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`worker counts must be integers >= 1, got ${process.argv.slice(2).join(' ')}`);

await loadBackend('auto', { log: () => {} });
const values = presetValueCount(SYNTHETIC_PRESETS[PRESET]);
console.log(`${new Date().toISOString()}: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}; ${PRESET}, ${values} values, ${ROWS} rows per worker, ${SAMPLE_MS} ms per sample`);

// the measured set-up: synthetic connections in this process over loopback, one thread for all
// (this machine's speed drifts with its load: the costs are measured again right before each run)
const loopback = (costs: MeasuredCosts): ScalingScenario => ({
  values,
  gradientBytesPerValue: 4, // one micro-batch per worker: a float64 wire sends it as float32, exactly
  stateBytesPerValue: 4,
  rowsPerWorker: ROWS,
  sampleMs: SAMPLE_MS,
  linkGbps: 8 / (costs.loopbackMsPerByte * 1e6),
  shareLinkGbps: 8 / (costs.loopbackUpMsPerByte * 1e6),
  latencyMs: 0,
  aggregators: 0,
  oneThread: !SEPARATE,
  // in a child process the workers' encoding runs beside the coordinator; their state reading too
});
console.log('workers | measured ms/step | predicted | difference | measured split (median ms: compute, sum, optimizer, allocation, encode, transfer, wait)');
let worst = 0;
let last: MeasuredCosts | null = null;
// a fresh process is slow at first (cold JIT, 8 MB buffers from fresh pages): one discarded run and cost measurement, as `adalora scale --simulate` does
await measureSynthetic({ preset: PRESET, workers: measured[0], sampleMs: SAMPLE_MS, batchSize: ROWS * measured[0], microBatch: ROWS, warmupSteps: 0, steps: 2, workersIn: SEPARATE ? 'child-process' : 'this-process' });
await measureMachineCosts(PRESET, { inFlight: measured[0] });
for (const w of measured) {
  const costs = await measureMachineCosts(PRESET, { inFlight: w });
  last = costs;
  console.log(`        costs: ${describeMachineCosts(costs)}`);
  const steps = await measureSynthetic({ preset: PRESET, workers: w, sampleMs: SAMPLE_MS, batchSize: ROWS * w, microBatch: ROWS, warmupSteps: 1, steps: 2, workersIn: SEPARATE ? 'child-process' : 'this-process' });
  const got = median(steps.map((s) => s.totalMs));
  const want = predictStep(loopback(costs), costs, w).totalMs;
  const diff = (want - got) / got;
  worst = Math.max(worst, Math.abs(diff));
  const split = (['computeMs', 'sumMs', 'optimizerMs', 'allocationMs', 'encodeMs', 'transferMs', 'waitMs'] as const).map((f) => median(steps.map((s) => s[f])).toFixed(0)).join(', ');
  console.log(`${String(w).padStart(7)} | ${got.toFixed(0).padStart(16)} | ${want.toFixed(0).padStart(9)} | ${(diff * 100).toFixed(1).padStart(8)} % | ${split}`);
}
console.log(`worst difference ${(worst * 100).toFixed(1)} % (target ≤ 15 %): ${worst <= 0.15 ? 'met' : 'MISSED'}`);

// a cluster: every worker on its own machine, 10 Gbit/s links, 0.1 ms latency, 20 ms per sample (a GPU)
const costs = last ?? (await measureMachineCosts(PRESET));
const cluster = (aggregators: number): ScalingScenario => ({ ...loopback(costs), linkGbps: 10, shareLinkGbps: 10, latencyMs: 0.1, sampleMs: 20, aggregators, oneThread: false });
const remote = { ...costs, workerEncodeMsPerByte: 0, workerReadMsPerByte: 0, sendMsPerByte: costs.loopbackMsPerByte / 2 };
console.log(`\nprediction, ${PRESET} on 10 Gbit/s links (0.1 ms), ${ROWS} rows × 20 ms per worker; aggregated: √W aggregators`);
console.log('workers | flat ms/step | flat efficiency | aggregators | aggregated ms/step | aggregated efficiency');
for (const w of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]) {
  const a = Math.max(1, Math.round(Math.sqrt(w)));
  const flat = predictStep(cluster(0), remote, w);
  const agg = predictStep(cluster(a), remote, w);
  console.log(`${String(w).padStart(7)} | ${flat.totalMs.toFixed(0).padStart(12)} | ${(flat.efficiency * 100).toFixed(1).padStart(14)} % | ${String(a).padStart(11)} | ${agg.totalMs.toFixed(0).padStart(18)} | ${(agg.efficiency * 100).toFixed(1).padStart(20)} %`);
}
