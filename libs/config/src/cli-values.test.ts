import test from 'ava';
import { finiteNumber } from './cli-values';

test('finiteNumber takes finite numbers and refuses anything else naming the value', (t) => {
  t.is(finiteNumber('2.5'), 2.5);
  t.is(finiteNumber('-1e3'), -1000);
  // Number() alone would give NaN (then null in a --set, i.e. the default) or 0 for ''
  for (const bad of ['abc', '', ' ', 'Infinity', 'NaN']) t.throws(() => finiteNumber(bad), { message: `expected a number, got '${bad}'` });
});
