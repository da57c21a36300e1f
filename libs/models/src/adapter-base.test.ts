import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADAPTER_BASE_FILE, checkAdapterBase, loadBaseForAdapter, readAdapterBase, writeAdapterBase } from './adapter-base';

const HASH = 'ab'.repeat(32);

function tmp(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'adapter-base-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('what is written is read back: hash, head size, label names', async (t) => {
  const dir = tmp(t);
  await writeAdapterBase(dir, { baseModelSha256: HASH, numLabels: 3, labels: ['neg', 'neutral', 'pos'] });
  t.deepEqual(await readAdapterBase(dir), { baseModelSha256: HASH, numLabels: 3, labels: ['neg', 'neutral', 'pos'] });
  await writeAdapterBase(dir, { baseModelSha256: HASH, numLabels: 1, labels: null });
  t.deepEqual(await readAdapterBase(dir), { baseModelSha256: HASH, numLabels: 1, labels: null });
});

test('an adapter folder without the file (saved by peft) has no recorded base', async (t) => {
  t.is(await readAdapterBase(tmp(t)), null);
});

test('a bad file is refused, naming it and the field', async (t) => {
  const dir = tmp(t);
  const put = (o: unknown) => writeFileSync(path.join(dir, ADAPTER_BASE_FILE), JSON.stringify(o));
  put({ base_model_sha256: 'xyz', num_labels: 2 });
  await t.throwsAsync(readAdapterBase(dir), { message: /adalora_base\.json: base_model_sha256 must be 64 hex digits/ });
  put({ base_model_sha256: HASH, num_labels: 0 });
  await t.throwsAsync(readAdapterBase(dir), { message: /num_labels must be an integer >= 1/ });
  put({ base_model_sha256: HASH, num_labels: 2, id2label: { 0: 'a' } });
  await t.throwsAsync(readAdapterBase(dir), { message: /id2label has no name for class 1/ });
  await t.throwsAsync(writeAdapterBase(dir, { baseModelSha256: HASH, numLabels: 3, labels: ['a'] }), { message: /1 label names for a head of 3 outputs/ });
});

test('another base model is refused, naming both hashes', (t) => {
  const base = { baseModelSha256: HASH, numLabels: 2, labels: null };
  t.notThrows(() => checkAdapterBase(base, HASH, 'ad', 'm'));
  t.throws(() => checkAdapterBase(base, 'cd'.repeat(32), 'runs/x/final/adapter', 'models/other'), {
    message: /the adapter runs\/x\/final\/adapter was trained on another base model: its base has SHA-256 abababababab…, models\/other has cdcdcdcdcdcd…/,
  });
});

test('loadBaseForAdapter: the load sees the record; the same base is used, another refused with the model disposed, none recorded is used with a warning', async (t) => {
  const dir = tmp(t);
  const loads = (hash: string) => {
    const seen: { recorded: unknown; disposed: boolean } = { recorded: undefined, disposed: false };
    const load = async (recorded: unknown) => {
      seen.recorded = recorded;
      return { model: { dispose: () => (seen.disposed = true) }, hash };
    };
    return { seen, load };
  };
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);

  const none = loads(HASH);
  t.is((await loadBaseForAdapter('models/base', dir, none.load, log)).recorded, null);
  t.is(none.seen.recorded, null);
  t.regex(logs.join('\n'), /records no base model .* make sure it is models\/base/);

  const base = { baseModelSha256: HASH, numLabels: 3, labels: null };
  await writeAdapterBase(dir, base);
  const same = loads(HASH);
  const loaded = await loadBaseForAdapter('models/base', dir, same.load, log);
  t.deepEqual(loaded.recorded, base);
  t.deepEqual(same.seen.recorded, base, 'the load is given the record (to size the head)');
  t.false(same.seen.disposed);
  t.is(logs.length, 1);

  const other = loads('cd'.repeat(32));
  await t.throwsAsync(loadBaseForAdapter('models/other', dir, other.load, log), { message: /trained on another base model/ });
  t.true(other.seen.disposed, 'the refused model is disposed');
});
