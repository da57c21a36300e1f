import test from 'ava';
import { matchesTarget, moduleId } from './module-id';

test('a module matches a target equal to its path or ending with .target', (t) => {
  const id = moduleId('bert.encoder.layer.0.attention.output.dense');
  t.true(matchesTarget(id, ['output.dense']));
  t.true(matchesTarget(id, ['attention.output.dense']));
  t.true(matchesTarget(id, ['bert.encoder.layer.0.attention.output.dense']));
  t.false(matchesTarget(id, ['put.dense']));
  t.false(matchesTarget(id, ['query']));
});

test('moduleId refuses what is not a dotted path', (t) => {
  t.throws(() => moduleId('bert..x'), { message: /not a dotted module path/ });
  t.throws(() => moduleId(''), { message: /not a dotted module path/ });
});
