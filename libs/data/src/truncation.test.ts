import test from 'ava';
import { truncatedLengths } from './truncation';

// The expected table is the one in the Rust `tokenizers` crate's own tests
// (utils/truncation.rs, truncate_encodings_longest_first: max_length 7; lengths empty=0,
// short=2, medium=4, long=8), i.e. what HF fast tokenizers do.
test('longest_first on pairs matches the tokenizers crate table (budget 7)', (t) => {
  const E = 0, S = 2, M = 4, L = 8;
  const table: [number, number, number, number][] = [
    [E, E, 0, 0], [E, S, 0, 2], [E, M, 0, 4], [E, L, 0, 7],
    [S, E, 2, 0], [S, S, 2, 2], [S, M, 2, 4], [S, L, 2, 5],
    [M, E, 4, 0], [M, S, 4, 2], [M, M, 3, 4], [M, L, 3, 4],
    [L, E, 7, 0], [L, S, 5, 2], [L, M, 4, 3], [L, L, 3, 4],
  ];
  for (const [a, b, ka, kb] of table) {
    t.deepEqual(truncatedLengths(a, b, 7, 'longest_first'), [ka, kb], `lengths ${a},${b}`);
  }
});

test('budget 0 keeps nothing (tokenizers crate truncate_encodings_empty)', (t) => {
  t.deepEqual(truncatedLengths(0, 2, 0, 'longest_first'), [0, 0]);
  t.deepEqual(truncatedLengths(4, 4, 0, 'longest_first'), [0, 0]);
  t.deepEqual(truncatedLengths(8, 8, 0, 'longest_first'), [0, 0]);
});

test('a single text keeps the first budget tokens', (t) => {
  t.deepEqual(truncatedLengths(10, null, 6, 'longest_first'), [6, 0]);
  t.deepEqual(truncatedLengths(10, null, 6, 'only_first'), [6, 0]);
  t.deepEqual(truncatedLengths(3, null, 6, 'only_first'), [3, 0]);
});

test('only_first / only_second cut only their sequence, and refuse to empty it', (t) => {
  t.deepEqual(truncatedLengths(5, 4, 7, 'only_first'), [3, 4]);
  t.deepEqual(truncatedLengths(5, 4, 7, 'only_second'), [5, 2]);
  // Removing 3 from a 3-token sequence would leave nothing: the crate returns SequenceTooShort.
  t.throws(() => truncatedLengths(3, 7, 7, 'only_first'), { code: 'DATA_ERR_TRUNCATION' });
  t.throws(() => truncatedLengths(7, 3, 7, 'only_second'), { code: 'DATA_ERR_TRUNCATION' });
  t.throws(() => truncatedLengths(9, null, 7, 'only_second'), { message: /needs a text pair/ });
  t.throws(() => truncatedLengths(9, null, -1, 'longest_first'), { message: /budget must be an integer >= 0/ });
});

test('the kept lengths always fit the budget and never exceed the inputs (invariant)', (t) => {
  for (let a = 0; a < 12; a++) {
    for (let b = 0; b < 12; b++) {
      for (let budget = 0; budget < 14; budget++) {
        const [ka, kb] = truncatedLengths(a, b, budget, 'longest_first');
        t.true(ka <= a && kb <= b && ka + kb <= budget);
        // Nothing is cut when everything fits; otherwise the budget is used fully.
        t.is(ka + kb, Math.min(a + b, budget));
      }
    }
  }
});
