import test from 'ava';
import { GradientNormGuard } from './gradient-norm-guard';

test('a norm that is not finite is refused, even during warm-up', (t) => {
  const g = new GradientNormGuard();
  t.regex(g.judge(NaN) ?? '', /is NaN \(a value is not finite/);
  t.regex(g.judge(Infinity) ?? '', /is Infinity/);
  t.is(g.judge(1), null);
});

test('after warm-up, a share far beyond the largest recent norm is refused and not remembered', (t) => {
  const g = new GradientNormGuard();
  for (const n of [1, 2, 0.5, 1]) t.is(g.judge(n), null);
  t.is(g.judge(1999), null, 'under 1e3 × the largest (2): a gradient spike is not absurd');
  t.regex(g.judge(2e7) ?? '', /per-sample gradient norm 2\.00e\+7 is over 1000 × the largest of the last 5 accepted shares \(2\.00e\+3\)/);
  t.is(g.judge(1e6), null, 'the refused one did not raise the bar, the accepted 1999 did');
});

test('during warm-up only the ceiling holds: 1e30 is refused from the first share', (t) => {
  const g = new GradientNormGuard();
  t.regex(g.judge(1e30) ?? '', /is over 1e\+8/);
  t.is(g.judge(1e5), null, 'large but under the ceiling, with nothing to compare to');
});
