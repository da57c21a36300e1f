import test from 'ava';
import { formatPredictionTable, PREDICTION_CSV_COLUMNS, predictionCsv, predictionNotes, predictionRows, type Predictor, type ScalePrediction } from './scale-prediction';
import { scaleCsv, CSV_COLUMNS } from './scale-report';
import { scaleTable } from './scale-table';
import type { StepRecord } from './split-parts';

const step = (totalMs: number): StepRecord => ({ samples: 8, totalMs, computeMs: 1, sumMs: 1, optimizerMs: 1, allocationMs: 1, encodeMs: 1, transferMs: 1, waitMs: 1, bytesIn: 1, bytesOut: 1 });
// measured medians: 2 workers 100 ms, 4 workers 250 ms
const rows = scaleTable([
  { workers: 4, steps: [step(200), step(300)] },
  { workers: 2, steps: [step(90), step(110)] },
]);
// a predictor simple enough to check by hand: 60 ms per worker; flat 10 ms per worker; aggregated 5 ms per worker;
// one run per count (its median the count's), the costs moved by +30 % over the 2-worker run, −2 % over the others
const oneRun = (drift: (w: number) => number | null) => (w: number) => [{ measuredMs: w === 2 ? 100 : 250, predictedMs: 60 * w, costDrift: drift(w) }];
const predictor: Predictor = {
  setUpMs: (w) => 60 * w,
  runs: oneRun((w) => (w === 2 ? 0.3 : -0.02)),
  flat: (w) => ({ totalMs: 10 * w, efficiency: 1 / w }),
  aggregated: (w) => ({ aggregators: Math.round(Math.sqrt(w)), totalMs: 5 * w, efficiency: 2 / w }),
};

test('prediction rows: the prediction beside each measured count with (predicted − measured) / measured; counts only predicted are marked so and have no error', (t) => {
  const p = predictionRows(rows, [1024, 4], predictor);
  t.deepEqual(
    p.map((r) => [r.workers, r.measured, r.measuredMs, r.predictedMs, r.error, r.costDrift]),
    [
      [2, true, 100, 120, 0.2, 0.3],
      [4, true, 250, 240, -0.04, -0.02],
      // 4 is measured: asked to predict it as well, it is not repeated
      [1024, false, null, 61440, null, null],
    ],
  );
  t.deepEqual(
    p.map((r) => [r.flatMs, r.flatEfficiency, r.aggregators, r.aggregatedMs, r.aggregatedEfficiency]),
    [
      [20, 0.5, 1, 10, 1],
      [40, 0.25, 2, 20, 0.5],
      [10240, 1 / 1024, 32, 5120, 2 / 1024],
    ],
  );
});

test('the prediction in scale.csv, scale-prediction.csv and the printed table', (t) => {
  const prediction: ScalePrediction = { setUp: 'loopback', cluster: { linkGbps: 10, latencyMs: 0.1, sampleMs: 5, rowsPerWorker: 8 }, rows: predictionRows(rows, [1024], predictor) };
  const csv = scaleCsv(rows, prediction).trimEnd().split('\n').map((l) => l.split(','));
  const col = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
  t.deepEqual(
    csv.slice(1).map((r) => [r[col('workers')], r[col('step_ms')], r[col('predicted_ms')], r[col('prediction_error')]]),
    [
      ['2', '100', '120', '0.2'],
      ['4', '250', '240', '-0.04'],
    ],
  );
  // without --simulate the columns are there, empty
  t.deepEqual(scaleCsv(rows).trimEnd().split('\n')[1].split(',').slice(-2), ['', '']);

  const lines = predictionCsv(prediction).trimEnd().split('\n');
  t.is(lines[0], PREDICTION_CSV_COLUMNS.join(','));
  t.is(lines[1], '2,measured,100,120,0.2,20,0.5,1,10,1,0.3,0.2');
  t.is(lines[3], `1024,predicted,,61440,,10240,${1 / 1024},32,5120,${2 / 1024},,`);

  const table = formatPredictionTable(prediction);
  t.regex(table, /^2\s+100\s+120\s+\+20\.0 %\s+\+30\.0 %\s+20\s+50\.0 %\s+1\s+10\s+100\.0 %$/m);
  t.regex(table, /^4\s+250\s+240\s+−4\.0 %\s+−2\.0 %/m);
  t.regex(table, /^1024\s+predicted only\s+61440\s+–\s+–\s+10240/m);
  t.false(table.includes("runs' errors"), 'one run per count: no column of run errors');
});

test('several runs at a count: each judged against its own prediction, the medians of their predictions, errors and cost drifts', (t) => {
  // three runs at 2 workers: errors −10 %, +30 %, +5 %; the machine drifted between them (the measured medians differ)
  const runs = [
    { measuredMs: 100, predictedMs: 90, costDrift: 0.01 },
    { measuredMs: 80, predictedMs: 104, costDrift: 0.2 },
    { measuredMs: 120, predictedMs: 126, costDrift: null },
  ];
  const p = predictionRows(rows, [8], { ...predictor, runs: (w) => (w === 2 ? runs : []) });
  const [two, four, eight] = p;
  t.deepEqual([two.predictedMs, two.runErrors.map((e) => Math.round(e * 100)), Math.round((two.error as number) * 100), two.costDrift], [104, [-10, 30, 5], 5, 0.105]);
  // a measured count with no runs known is judged by setUpMs against its median; a predicted-only count has no runs
  t.deepEqual([four.predictedMs, four.error, four.runErrors, four.costDrift], [240, -0.04, [], null]);
  t.deepEqual([eight.error, eight.runErrors], [null, []]);

  const prediction: ScalePrediction = { setUp: 'loopback', cluster: { linkGbps: 10, latencyMs: 0.1, sampleMs: 5, rowsPerWorker: 8 }, rows: p };
  const table = formatPredictionTable(prediction);
  t.regex(table, /runs' errors/);
  t.regex(table, /^2\s+100\s+104\s+\+5\.0 %\s+−10\.0 … \+30\.0 %\s+\+10\.5 %/m);
  t.regex(table, /^4\s+250\s+240\s+−4\.0 %\s+–\s+–/m);
  t.is(predictionCsv(prediction).split('\n')[1].split(',').at(-1), two.runErrors.join(';'));
  t.regex(predictionNotes(prediction).join('\n'), /up to 3 runs per count.*error: the median of the runs' errors/);
});

test('the notes name a count whose costs moved beyond ±15 % and give the largest error over the others beside the largest of all', (t) => {
  const notes = (drift: (w: number) => number | null) => predictionNotes({ setUp: 'loopback', cluster: { linkGbps: 10, latencyMs: 0.1, sampleMs: 5, rowsPerWorker: 8 }, rows: predictionRows(rows, [], { ...predictor, runs: oneRun(drift) }) }).join('\n');
  const moved = notes((w) => (w === 2 ? 0.3 : -0.02));
  t.regex(moved, /largest \|error\| over the measured counts: 20\.0 % \(target ≤ 15 %\)/);
  t.regex(moved, /speed changed during the count at 2 worker\(s\) \(costs moved \+30\.0 %\).*over the other counts the largest \|error\| is 4\.0 %/);
  // at the limit, or not known: nothing said
  for (const drift of [() => 0.15, () => -0.15, () => null]) t.notRegex(notes(drift), /speed changed during the count at/);
  t.regex(notes(() => -0.16), /speed changed during the count at 2, 4 worker\(s\) \(costs moved −16\.0 %, −16\.0 %\): the error there measures that as much as the model$/m);
});
