import test from 'ava';
import { ConfigReader, configError } from './config-reader';

const reader = (obj: unknown, path = 'sec') => ConfigReader.of(obj, path);

test('of: undefined and null read as an empty section; non-objects are refused with the path', (t) => {
  t.is(reader(undefined).number('n', 3), 3);
  t.is(reader(null).string('s', 'x'), 'x');
  t.throws(() => reader(5, 'a.b'), { message: "config: 'a.b' must be an object, got 5" });
  t.throws(() => reader([1], 'a.b'), { message: "config: 'a.b' must be an object, got [1]" });
  t.throws(() => reader('str', 'a'), { message: `config: 'a' must be an object, got "str"` });
  t.throws(() => reader(7, ''), { message: 'config: the top level must be an object, got 7' });
});

test('number: value, fallback when absent or null, and errors naming the dotted path', (t) => {
  t.is(reader({ n: 2.5 }).number('n', 1), 2.5);
  t.is(reader({}).number('n', 1), 1);
  t.is(reader({ n: null }).number('n', 1), 1);
  t.throws(() => reader({ n: '3' }).number('n', 1), { message: `config: 'sec.n' must be a finite number, got "3"` });
  t.throws(() => reader({ n: Number.NaN }).number('n', 1), { message: /'sec\.n' must be a finite number/ });
  t.throws(() => reader({ n: Infinity }).number('n', 1), { message: /'sec\.n' must be a finite number/ });
  t.throws(() => reader({ n: true }).number('n', 1), { message: /'sec\.n' must be a finite number, got true/ });
  // no fallback: required
  t.throws(() => reader({}).number('n', undefined), { message: "config: 'sec.n' is required, got undefined" });
  t.is(reader({ n: 0 }).number('n', undefined), 0);
});

test('number rules: integer, min (inclusive / exclusive), max', (t) => {
  const r = (v: unknown) => reader({ n: v }, 'training');
  t.throws(() => r(1.5).number('n', 0, { integer: true }), { message: "config: 'training.n' must be an integer, got 1.5" });
  t.is(r(2).number('n', 0, { integer: true }), 2);
  t.is(r(0).number('n', 5, { min: 0 }), 0); // inclusive bound accepted
  t.throws(() => r(-1).number('n', 0, { min: 0 }), { message: "config: 'training.n' must be >= 0, got -1" });
  t.throws(() => r(0).number('n', 1, { min: 0, exclusiveMin: true }), { message: "config: 'training.n' must be > 0, got 0" });
  t.is(r(1e-9).number('n', 1, { min: 0, exclusiveMin: true }), 1e-9);
  t.is(r(10).number('n', 0, { max: 10 }), 10); // max is inclusive
  t.throws(() => r(10.5).number('n', 0, { max: 10 }), { message: "config: 'training.n' must be <= 10, got 10.5" });
  // the fallback is checked too (a bad default is a bug worth hearing about)
  t.throws(() => reader({}).number('n', -1, { min: 0 }), { message: /'sec\.n' must be >= 0, got -1/ });
});

test('optionalNumber: undefined when absent or null, rules applied when present', (t) => {
  t.is(reader({}).optionalNumber('n'), undefined);
  t.is(reader({ n: null }).optionalNumber('n'), undefined);
  t.is(reader({ n: 4 }).optionalNumber('n', { min: 1, integer: true }), 4);
  t.throws(() => reader({ n: 0 }).optionalNumber('n', { min: 1 }), { message: "config: 'sec.n' must be >= 1, got 0" });
  t.throws(() => reader({ n: 2.5 }).optionalNumber('n', { integer: true }), { message: /'sec\.n' must be an integer/ });
  t.throws(() => reader({ n: 'x' }).optionalNumber('n'), { message: /'sec\.n' must be a finite number/ });
  // an absent optional field counts as read
  const r = reader({ n: null });
  r.optionalNumber('n');
  t.notThrows(() => r.done());
});

test('string and optionalString: non-empty strings only', (t) => {
  t.is(reader({ s: 'a' }).string('s'), 'a');
  t.is(reader({}).string('s', 'dflt'), 'dflt');
  t.throws(() => reader({}).string('s'), { message: "config: 'sec.s' must be a non-empty string, got undefined" });
  t.throws(() => reader({ s: '' }).string('s', 'x'), { message: `config: 'sec.s' must be a non-empty string, got ""` });
  t.throws(() => reader({ s: 3 }).string('s'), { message: /'sec\.s' must be a non-empty string, got 3/ });
  t.is(reader({}).optionalString('s'), undefined);
  t.is(reader({ s: null }).optionalString('s'), undefined);
  t.is(reader({ s: 'b' }).optionalString('s'), 'b');
  t.throws(() => reader({ s: '' }).optionalString('s'), { message: /'sec\.s' must be a non-empty string/ });
  t.throws(() => reader({ s: ['a'] }).optionalString('s'), { message: /'sec\.s' must be a non-empty string, got \["a"\]/ });
});

test('boolean: true/false only', (t) => {
  t.is(reader({ b: false }).boolean('b', true), false);
  t.is(reader({}).boolean('b', true), true);
  t.throws(() => reader({ b: 'true' }).boolean('b', false), { message: `config: 'sec.b' must be true or false, got "true"` });
  t.throws(() => reader({ b: 1 }).boolean('b', false), { message: /'sec\.b' must be true or false, got 1/ });
});

test('oneOf: one of the allowed strings, listed in the error', (t) => {
  const allowed = ['constant', 'linear'] as const;
  t.is(reader({ k: 'constant' }).oneOf('k', allowed, 'linear'), 'constant');
  t.is(reader({}).oneOf('k', allowed, 'linear'), 'linear');
  t.throws(() => reader({ k: 'cosine' }).oneOf('k', allowed, 'linear'), { message: `config: 'sec.k' must be one of constant, linear, got "cosine"` });
  t.throws(() => reader({ k: 1 }).oneOf('k', allowed, 'linear'), { message: /'sec\.k' must be one of constant, linear, got 1/ });
  t.throws(() => reader({ k: 'Linear' }).oneOf('k', allowed, 'linear'), { message: /must be one of/ }); // case matters
});

test('optionalStringList: a copy of a list of strings', (t) => {
  t.is(reader({}).optionalStringList('l'), undefined);
  t.is(reader({ l: null }).optionalStringList('l'), undefined);
  const src = ['a', 'b'];
  const got = reader({ l: src }).optionalStringList('l');
  t.deepEqual(got, ['a', 'b']);
  t.not(got, src);
  t.deepEqual(reader({ l: [] }).optionalStringList('l'), []);
  t.throws(() => reader({ l: 'a' }).optionalStringList('l'), { message: `config: 'sec.l' must be a list of strings, got "a"` });
  t.throws(() => reader({ l: ['a', 1] }).optionalStringList('l'), { message: /'sec\.l' must be a list of strings, got \["a",1\]/ });
});

test('section and raw: nested paths, raw returns the value untouched', (t) => {
  const r = reader({ inner: { deep: { x: 'no' } }, blob: { any: [1] } }, 'root');
  const deep = r.section('inner').section('deep');
  t.throws(() => deep.number('x', 0), { message: /'root\.inner\.deep\.x' must be a finite number/ });
  const raw = { any: [1] };
  t.deepEqual(r.raw('blob'), raw);
  t.throws(() => reader({ inner: 3 }, 'root').section('inner'), { message: "config: 'root.inner' must be an object, got 3" });
  // top-level reader: paths have no leading dot
  t.throws(() => ConfigReader.of({ lr: -1 }, '').number('lr', 1, { min: 0 }), { message: "config: 'lr' must be >= 0, got -1" });
});

test('done: refuses unknown fields, naming each with its dotted path', (t) => {
  const one = reader({ a: 1, typo: 2 }, 'training');
  one.number('a', 0);
  t.throws(() => one.done(), { message: "config: unknown field 'training.typo'" });
  const two = reader({ a: 1, x: 1, y: 2 }, 'training');
  two.number('a', 0);
  t.throws(() => two.done(), { message: "config: unknown fields 'training.x', 'training.y'" });
  const top = ConfigReader.of({ modle: 'x' }, '');
  t.throws(() => top.done(), { message: "config: unknown field 'modle'" });
  // every getter marks its key as read, even when it fell back to a default
  const all = reader({ n: 1, on: 2, s: 's', os: 't', b: true, k: 'a', l: ['x'], sec: {}, raw: 0 });
  all.number('n', 0);
  all.optionalNumber('on');
  all.string('s');
  all.optionalString('os');
  all.boolean('b', false);
  all.oneOf('k', ['a'] as const, 'a');
  all.optionalStringList('l');
  all.section('sec');
  all.raw('raw');
  all.number('absent', 0);
  t.notThrows(() => all.done());
});

test('fail: long values are shortened in the message', (t) => {
  const long = 'x'.repeat(200);
  const e = t.throws(() => reader({ s: long }).boolean('s', false));
  t.true(e.message.length < 120, e.message);
  t.regex(e.message, /^config: 'sec\.s' must be true or false, got "x+\.\.\.$/);
});

test('writtenKey: the one spelling the user wrote, refused when two are; all count as read', (t) => {
  const r = reader({ init_r: 4, orthRegWeight: 0.1, gone: null }, 'adalora');
  t.is(r.writtenKey(['init_r', 'initR']), 'init_r');
  t.is(r.writtenKey(['orth_reg_weight', 'orthRegWeight']), 'orthRegWeight');
  t.is(r.writtenKey(['target_r', 'targetR']), undefined);
  t.is(r.writtenKey(['gone']), 'gone'); // null is written (the parser decides what it means)
  t.notThrows(() => r.done());
  t.throws(() => reader({ init_r: 4, initR: 4 }, 'adalora').writtenKey(['init_r', 'initR']), { message: "config: 'adalora.init_r' and 'adalora.initR' are one field: keep one" });
});

test('fail and configError: one wording, a default value marked as such', (t) => {
  t.throws(() => reader({}, 'adalora').fail('target_r', "must be <= 'adalora.init_r' (4)", 8, true), {
    message: "config: 'adalora.target_r' must be <= 'adalora.init_r' (4), got 8 (the default)",
  });
  t.is(configError('training.lr', 'must be > 0', -1).message, "config: 'training.lr' must be > 0, got -1");
  t.is(reader({}, 'a').field('b'), 'a.b');
  t.is(ConfigReader.of({}, '').field('b'), 'b');
});
