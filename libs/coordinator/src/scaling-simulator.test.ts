import test from 'ava';
import { predictStep, type MachineCosts, type ScalingScenario } from './scaling-simulator';

const costs: MachineCosts = {
  readSumMsPerValue: 2e-6,
  prepareMsPerValue: 0,
  meanMsPerValue: 1e-6,
  optimizerMsPerValue: 10e-6,
  allocationMsPerValue: 5e-6,
  encodeMsPerValue: 1e-6,
  sendMsPerByte: 1e-7,
  workerEncodeMsPerByte: 0,
  workerReadMsPerByte: 0,
};
const scenario: ScalingScenario = { values: 2_000_000, gradientBytesPerValue: 8, stateBytesPerValue: 4, rowsPerWorker: 8, sampleMs: 20, linkGbps: 10, latencyMs: 0.1, aggregators: 0 };
const free: MachineCosts = { ...costs, readSumMsPerValue: 0, meanMsPerValue: 0, optimizerMsPerValue: 0, allocationMsPerValue: 0, encodeMsPerValue: 0, sendMsPerByte: 0 };

test('with nothing to pay but compute, every worker count is fully efficient', (t) => {
  for (const w of [1, 7, 64, 1024]) {
    const p = predictStep({ ...scenario, linkGbps: Infinity, latencyMs: 0 }, free, w);
    t.is(p.totalMs, 160);
    t.is(p.efficiency, 1);
  }
});

test('one thread: each added worker costs its share’s wire, reading and state, exactly', (t) => {
  const one: ScalingScenario = { ...scenario, oneThread: true, linkGbps: 80, latencyMs: 0 };
  const w = (n: number) => predictStep(one, { ...costs, workerEncodeMsPerByte: 1e-7, workerReadMsPerByte: 2e-7 }, n).totalMs;
  const perWorker = 2e6 * 8 * (1e-7 + 8 / 80e6) + 2e6 * 2e-6 + 2e6 * 4 * (1e-7 + 2e-7 + 8 / 80e6);
  t.true(Math.abs(w(16) - w(8) - 8 * perWorker) < 1e-6);
  t.true(Math.abs(w(32) - w(16) - 16 * perWorker) < 1e-6);
});

test('flat: the coordinator’s link and reading grow with workers; aggregators keep the step nearly flat', (t) => {
  const flat = [8, 64, 1024].map((w) => predictStep(scenario, costs, w));
  t.true(flat[0].totalMs < flat[1].totalMs && flat[1].totalMs < flat[2].totalMs);
  t.true(flat[2].efficiency < 0.2, `flat at 1,024 workers: ${flat[2].efficiency}`);
  const agg = predictStep({ ...scenario, aggregators: 32 }, costs, 1024);
  t.true(agg.totalMs < flat[2].totalMs / 5, `${agg.totalMs} vs ${flat[2].totalMs}`);
  // 1,024 shares of 16 MB over one 10 Gbit/s link take at least 13 s: the model never beats the link
  t.true(flat[2].totalMs >= (1024 * 16e6 * 8) / 10e6);
});

test('the regulariser made while workers compute costs nothing while it fits in their compute; beyond, it delays the reading; on one thread it adds up', (t) => {
  const w = 8;
  const base = predictStep(scenario, costs, w).totalMs;
  // 2 M values × 50 ns = 100 ms, under the 160 ms of compute
  t.is(predictStep(scenario, { ...costs, prepareMsPerValue: 50e-6 }, w).totalMs, base);
  // 2 M values × 200 ns = 400 ms: every share has arrived by then (the last at 160.1 ms of compute and latency + 8 wires
  // of 12.8 ms) and they are read one after another from 400 ms, 4 ms each, instead of the last ending at its arrival + 4 ms
  const late = predictStep(scenario, { ...costs, prepareMsPerValue: 200e-6 }, w).totalMs;
  const wire = (2e6 * 8 * 8) / 10e6;
  t.true(Math.abs(late - base - (400 + w * 4 - (160.1 + w * wire + 4))) < 1e-9, `${late} vs ${base}`);
  const one: ScalingScenario = { ...scenario, oneThread: true, linkGbps: Infinity, latencyMs: 0 };
  t.true(Math.abs(predictStep(one, { ...costs, prepareMsPerValue: 50e-6 }, w).totalMs - predictStep(one, costs, w).totalMs - 100) < 1e-9);
});

test('one thread, with arrival costs measured: a worker costs its share (encoded, sent, read) and its state (received, read) at those costs, exactly', (t) => {
  const one: ScalingScenario = { ...scenario, oneThread: true, linkGbps: 80, latencyMs: 0 };
  const plain = { ...costs, workerEncodeMsPerByte: 1e-7 };
  const c = { ...plain, shareArrivalMsPerByte: 5e-7, stateArrivalMsPerByte: 3e-7 };
  const w = (n: number) => predictStep(one, c, n).totalMs;
  const perWorker = 2e6 * 8 * 5e-7 + 2e6 * 4 * 3e-7;
  t.true(Math.abs(w(16) - w(8) - 8 * perWorker) < 1e-6);
  // a cluster's prediction ignores them: they are costs of one thread
  t.is(predictStep(scenario, c, 16).totalMs, predictStep(scenario, plain, 16).totalMs);
  t.not(predictStep(one, c, 16).totalMs, predictStep(one, plain, 16).totalMs);
});

test('bad worker or aggregator counts are refused', (t) => {
  t.throws(() => predictStep(scenario, costs, 0), { message: /workers must be an integer >= 1/ });
  t.throws(() => predictStep({ ...scenario, aggregators: -1 }, costs, 4), { message: /aggregators/ });
});
