import test from 'ava';
import { quantile, scaleTable, type Measurement } from './scale-table';
import type { StepRecord } from './step-record';

const step = (totalMs: number, parts: Partial<StepRecord> = {}): StepRecord => ({
  samples: 32,
  totalMs,
  computeMs: null,
  sumMs: null,
  optimizerMs: null,
  allocationMs: null,
  encodeMs: null,
  transferMs: null,
  waitMs: null,
  bytesIn: null,
  bytesOut: null,
  ...parts,
});

// hand-computed below: 32 samples per step
const one: Measurement = {
  workers: 1,
  steps: [
    step(100, { computeMs: 60, sumMs: 4, optimizerMs: 10, bytesIn: 1000, bytesOut: 500 }), // 320 samples/s
    step(200, { computeMs: 150, sumMs: 1, optimizerMs: 20, bytesIn: 1000, bytesOut: 500 }), // 160
    step(400, { computeMs: 300, sumMs: 3, optimizerMs: 30, bytesIn: 1000, bytesOut: 500 }), // 80
    step(160, { computeMs: 100, sumMs: 2, optimizerMs: 40, bytesIn: 1000, bytesOut: 500 }), // 200
  ],
};
const two: Measurement = { workers: 2, steps: [step(50), step(80), step(100)] }; // 640, 400, 320 samples/s
const four: Measurement = { workers: 4, steps: [step(40), step(40), step(40)] }; // 800 samples/s

test('quantiles interpolate between order statistics (numpy default)', (t) => {
  t.is(quantile([80, 160, 200, 320], 0.5), 180);
  t.is(quantile([320, 80, 200, 160], 0.25), 140); // 80 + 0.75 × (160 − 80)
  t.is(quantile([80, 160, 200, 320], 0.75), 230); // 200 + 0.25 × (320 − 200)
  t.is(quantile([7], 0.75), 7);
  t.throws(() => quantile([], 0.5), { message: /no values/ });
});

test('medians, spread, speed-up and efficiency against 1 worker, rows in worker order', (t) => {
  const rows = scaleTable([four, one, two]);
  t.deepEqual(
    rows.map((r) => r.workers),
    [1, 2, 4],
  );
  const [r1, r2, r4] = rows;
  t.is(r1.steps, 4);
  t.is(r1.samplesPerStep, 32);
  t.deepEqual(r1.samplesPerSecond, { median: 180, p25: 140, p75: 230 });
  t.deepEqual(r1.stepMs, { median: 180, p25: 145, p75: 250 });
  t.is(r1.speedup, 1);
  t.is(r1.efficiency, 1);
  t.is(r2.samplesPerSecond.median, 400);
  t.true(Math.abs(r2.speedup - 400 / 180) < 1e-12);
  t.true(Math.abs(r2.efficiency - 400 / 180 / 2) < 1e-12);
  t.true(Math.abs(r4.speedup - 800 / 180) < 1e-12);
  t.true(Math.abs(r4.efficiency - 800 / 180 / 4) < 1e-12);
});

test('the split: medians per part; coordinator time summed per step before the median; unmeasured parts null', (t) => {
  const [r1, r2] = scaleTable([one, two]);
  t.is(r1.split.computeMs, 125); // 60 100 150 300
  t.is(r1.split.sumMs, 2.5); // 1 2 3 4
  t.is(r1.split.optimizerMs, 25); // 10 20 30 40
  // per step 14 21 33 42: median 27, not 2.5 + 25
  t.is(r1.split.coordinatorMs, 27);
  t.is(r1.split.allocationMs, null);
  t.is(r1.split.transferMs, null);
  t.is(r1.bytesIn, 1000);
  t.is(r1.bytesOut, 500);
  t.is(r2.split.coordinatorMs, null);
  t.is(r2.bytesIn, null);
  // a part missing from one step is not measured for the count
  const mixed = scaleTable([{ workers: 1, steps: [step(100, { waitMs: 5 }), step(100)] }]);
  t.is(mixed[0].split.waitMs, null);
});

test('against the smallest count when 1 worker is not measured', (t) => {
  const [r2, r4] = scaleTable([two, four]);
  t.is(r2.efficiency, 1);
  t.is(r4.speedup, 2);
  t.is(r4.efficiency, 1);
});

test('refuses no measurements, an empty count, a repeated count, and steps without samples or time', (t) => {
  t.throws(() => scaleTable([]), { message: /no measurements/ });
  t.throws(() => scaleTable([{ workers: 3, steps: [] }]), { message: /no measured steps at 3 worker/ });
  t.throws(() => scaleTable([two, two]), { message: /2 workers measured twice/ });
  t.throws(() => scaleTable([{ workers: 1, steps: [step(0)] }]), { message: /32 samples in 0 ms/ });
});
