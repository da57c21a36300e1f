import test from 'ava';
import { coverUnits, planOnePerUnit, planShares, rowsOfUnits, unitsOf } from './share-planner';

test('units and their rows: whole units on a fixed grid, the last one short', (t) => {
  t.deepEqual(unitsOf(10, 4), [0, 1, 2]);
  t.deepEqual(unitsOf(8, 4), [0, 1]);
  t.deepEqual(rowsOfUnits([0, 2], 4, 10), [0, 1, 2, 3, 8, 9]);
  t.deepEqual(rowsOfUnits([1], 4, 10), [4, 5, 6, 7]);
  t.throws(() => unitsOf(10, 0), { message: /unitRows must be an integer >= 1, got 0/ });
});

test('planShares: contiguous ascending shares of whole units, the earlier shares one larger, no empty share', (t) => {
  t.deepEqual(planShares([0, 1, 2, 3, 4], 2), [[0, 1, 2], [3, 4]]);
  t.deepEqual(planShares([0, 1, 2, 3, 4, 5, 6], 3), [[0, 1, 2], [3, 4], [5, 6]]);
  t.deepEqual(planShares([0, 1], 3), [[0], [1]], 'more workers than units: the extra workers get nothing');
  t.deepEqual(planShares([0, 1, 2], 1), [[0, 1, 2]]);
  // the short last micro-batch (the highest unit) can only end a share
  for (let workers = 1; workers <= 5; workers++) {
    const shares = planShares([0, 1, 2, 3, 4], workers);
    t.true(shares.every((s) => !s.includes(4) || s.at(-1) === 4), `${workers} workers`);
  }
});

test('planShares: redistribution sorts the units that are left', (t) => {
  t.deepEqual(planShares([5, 6, 1, 2], 2), [[1, 2], [5, 6]]);
  t.deepEqual(planShares([7, 3, 4], 2), [[3, 4], [7]]);
});

test('planOnePerUnit: one request per unit, in order', (t) => {
  t.deepEqual(planOnePerUnit([2, 0, 1]), [[0], [1], [2]]);
});

test('coverUnits: a failed share is recomputed once, by another worker, and every unit is covered exactly once', async (t) => {
  const calls: { worker: string; share: readonly number[] }[] = [];
  const failures: (readonly number[])[] = [];
  let live = ['a', 'b', 'c'];
  const covered = await coverUnits({
    units: [0, 1, 2, 3, 4, 5, 6],
    workers: async () => live,
    plan: planShares,
    run: async (worker, share) => {
      calls.push({ worker, share });
      if (worker === 'b') {
        live = live.filter((w) => w !== 'b'); // b is gone after its failure
        throw new Error('b dropped');
      }
      return share.map((u) => u * 10);
    },
    onShareFailed: (share) => failures.push(share),
  });
  t.deepEqual(failures, [[3, 4]]);
  const bShare = calls.filter((c) => c.worker !== 'b' && c.share.some((u) => u === 3 || u === 4));
  t.deepEqual(bShare, [{ worker: 'a', share: [3] }, { worker: 'c', share: [4] }], "b's share went once to the remaining workers, split among them");
  const units = covered.flatMap((c) => c.share);
  t.deepEqual(units, [0, 1, 2, 3, 4, 5, 6], 'each unit once, results ordered by share');
  t.deepEqual(covered.flatMap((c) => c.result), [0, 10, 20, 30, 40, 50, 60]);
  t.is(calls.length, 5);
});

test('coverUnits: one share in flight per worker; a free worker takes the next; shares no worker took are planned again', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  let round = 0;
  const seen: number[] = [];
  const covered = await coverUnits({
    units: [0, 1, 2, 3, 4],
    workers: async () => {
      round++;
      return ['x', 'y'];
    },
    plan: planOnePerUnit,
    run: async (worker, share) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      // in the first round both workers fail on their first request: nothing else is taken
      if (round === 1) throw new Error(`${worker} failed`);
      seen.push(share[0]);
      return share[0];
    },
  });
  t.is(maxInFlight, 2, 'never more requests than workers');
  t.is(round, 2);
  t.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
  t.deepEqual(covered.map((c) => c.result), [0, 1, 2, 3, 4]);
});

test('coverUnits: no worker at all is a bug of the caller, not an endless loop', async (t) => {
  await t.throwsAsync(coverUnits({ units: [0], workers: async () => [], plan: planShares, run: async () => 0 }), { message: /gave no worker/ });
});

test('coverUnits: onShareFailed throwing ends the covering with its error; no share is sent after it', async (t) => {
  const sent: number[] = [];
  const covering = coverUnits({
    units: [0, 1, 2, 3, 4, 5],
    workers: async () => ['x', 'y'],
    plan: planOnePerUnit,
    run: async (worker, share) => {
      sent.push(share[0]);
      await new Promise((r) => setTimeout(r, 1));
      if (share[0] === 1) throw new Error('unit 1 is bad');
      return share[0];
    },
    onShareFailed: (_share, e) => {
      throw new Error(`stop: ${e.message}`);
    },
  });
  await t.throwsAsync(covering, { message: 'stop: unit 1 is bad' });
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(sent, [0, 1, 2], 'x had taken unit 2 before y failed; nothing after');
});

test('coverUnits: each covered share names the worker that computed it', async (t) => {
  const covered = await coverUnits({ units: [0, 1, 2], workers: async () => ['x', 'y'], plan: planShares, run: async (w) => w });
  t.deepEqual(covered.map((c) => [c.share, c.worker, c.result]), [[[0, 1], 'x', 'x'], [[2], 'y', 'y']]);
});
