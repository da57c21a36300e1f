import test from 'ava';
import { predictStep, type MachineCosts, type ScalingScenario } from './scaling-simulator';

const costs: MachineCosts = {
  readSumMsPerValue: 2e-6,
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

test('bad worker or aggregator counts are refused', (t) => {
  t.throws(() => predictStep(scenario, costs, 0), { message: /workers must be an integer >= 1/ });
  t.throws(() => predictStep({ ...scenario, aggregators: -1 }, costs, 4), { message: /aggregators/ });
});
