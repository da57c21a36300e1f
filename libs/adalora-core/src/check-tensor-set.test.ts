import test from 'ava';
import { checkTensorSet, TensorSetError } from './check-tensor-set';

const expected = new Map([
  ['q.lora_A', { shape: [2, 3] }],
  ['q.lora_E', { shape: [2, 1] }],
  ['classifier.weight', { shape: [2, 4] }],
]);

function problemOf(run: () => unknown): TensorSetError {
  try {
    run();
  } catch (e) {
    if (e instanceof TensorSetError) return e;
    throw e;
  }
  throw new Error('expected a TensorSetError');
}

test('a complete set is returned by expected key, in expected order, shapes or sizes', (t) => {
  const byShape = [
    { name: 'classifier.weight', shape: [2, 4], tag: 1 },
    { name: 'q.lora_E', shape: [2, 1], tag: 2 },
    { name: 'q.lora_A', shape: [2, 3], tag: 3 },
  ];
  const got = checkTensorSet(expected, byShape, 'here');
  t.deepEqual([...got.keys()], ['q.lora_A', 'q.lora_E', 'classifier.weight']);
  t.is(got.get('q.lora_A')!.tag, 3);
  const bySize = [
    { name: 'q.lora_A', size: 6 },
    { name: 'q.lora_E', size: 2 },
    { name: 'classifier.weight', size: 8 },
  ];
  t.is(checkTensorSet(expected, bySize, 'here').size, 3);
});

test('an unknown tensor is named', (t) => {
  const e = problemOf(() => checkTensorSet(expected, [{ name: 'q.lora_B', shape: [3, 2] }], 'w1 gradients'));
  t.like(e, { problem: 'unknown', tensor: 'q.lora_B', message: "w1 gradients: unknown tensor 'q.lora_B'" });
});

test('a tensor given twice is a duplicate', (t) => {
  const e = problemOf(() => checkTensorSet(expected, [{ name: 'q.lora_E', size: 2 }, { name: 'q.lora_E', size: 2 }], 'state'));
  t.like(e, { problem: 'duplicate', tensor: 'q.lora_E', message: "state: duplicate tensor 'q.lora_E'" });
});

test('a wrong shape, or a wrong element count, says what was expected', (t) => {
  const shape = problemOf(() => checkTensorSet(expected, [{ name: 'q.lora_A', shape: [3, 2] }], 'f.safetensors'));
  t.like(shape, { problem: 'shape', tensor: 'q.lora_A', message: "f.safetensors: tensor 'q.lora_A' has shape [3,2], expected [2,3]" });
  const rank = problemOf(() => checkTensorSet(expected, [{ name: 'q.lora_E', shape: [2] }], 'f'));
  t.is(rank.message, "f: tensor 'q.lora_E' has shape [2], expected [2,1]");
  const size = problemOf(() => checkTensorSet(expected, [{ name: 'classifier.weight', size: 6 }], 'trainer state'));
  t.like(size, { problem: 'shape', message: "trainer state: tensor 'classifier.weight' has 6 values, expected 8 (shape [2,4])" });
});

test('a missing tensor is named with how many of the set were there', (t) => {
  const e = problemOf(() => checkTensorSet(expected, [{ name: 'q.lora_A', size: 6 }, { name: 'classifier.weight', size: 8 }], 'state'));
  t.like(e, { problem: 'missing', tensor: 'q.lora_E', message: "state: missing tensor 'q.lora_E' (2 of 3 present)" });
  t.is(problemOf(() => checkTensorSet(expected, [], 'state')).message, "state: missing tensor 'q.lora_A' (0 of 3 present)");
});

test('the first problem in arrival order is the one reported', (t) => {
  const e = problemOf(() => checkTensorSet(expected, [{ name: 'q.lora_A', shape: [1, 3] }, { name: 'nope.weight', size: 1 }], 'x'));
  t.is(e.problem, 'shape');
});
