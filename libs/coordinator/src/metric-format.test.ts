import test from 'ava';
import { formatMetrics } from './metric-format';

test('scores print with four decimals, question counts as integers', (t) => {
  t.is(
    formatMetrics({ em: 33.333333333, f1: 100, HasAns_em: 0, HasAns_total: 32, NoAns_total: 16, total: 48 }),
    'em 33.3333, f1 100.0000, HasAns_em 0.0000, HasAns_total 32, NoAns_total 16, total 48',
  );
  t.is(formatMetrics({ accuracy: 0.5, mcc: -0.25 }), 'accuracy 0.5000, mcc -0.2500');
});
