import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimOutputFolder } from './output-folder';

function previousRun(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-output-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['checkpoint-4', 'final', 'best', 'task', 'model-cache']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'metrics.jsonl'), '{"kind":"step","step":1}\n');
  writeFileSync(join(dir, 'report.html'), '<html></html>');
  writeFileSync(join(dir, 'secret'), 'not the run output');
  return dir;
}

const quiet = { overwrite: false, resuming: false };

test("an output folder holding a previous run's outputs is refused, naming the folder and them; nothing is touched", (t) => {
  const dir = previousRun(t);
  const before = readdirSync(dir).sort();
  t.throws(() => claimOutputFolder(dir, quiet, () => t.fail('no log')), {
    message: `output folder ${dir} holds a previous run's best/, checkpoint-4/, final/, metrics.jsonl, report.html: pass --overwrite to delete them, --resume latest to continue that run, or choose another --output`,
  });
  t.deepEqual(readdirSync(dir).sort(), before);
});

test('a missing folder, an empty one, or one holding only inputs (a secret, a model cache, the built-in task) is accepted', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-output-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.notThrows(() => claimOutputFolder(join(dir, 'new'), quiet, () => {}));
  t.notThrows(() => claimOutputFolder(dir, quiet, () => {}));
  mkdirSync(join(dir, 'task'));
  writeFileSync(join(dir, 'secret'), 'x');
  t.notThrows(() => claimOutputFolder(dir, quiet, () => {}));
});

test("--overwrite deletes only the previous run's outputs and says so; a resume keeps them", (t) => {
  const dir = previousRun(t);
  const before = readdirSync(dir).sort();
  t.notThrows(() => claimOutputFolder(dir, { overwrite: false, resuming: true }, () => {}));
  t.deepEqual(readdirSync(dir).sort(), before);
  const log: string[] = [];
  claimOutputFolder(dir, { overwrite: true, resuming: false }, (l) => log.push(l));
  t.deepEqual(readdirSync(dir).sort(), ['model-cache', 'secret', 'task']);
  t.deepEqual(log, [`--overwrite: deleted the previous run's best/, checkpoint-4/, final/, metrics.jsonl, report.html in ${dir}`]);
  t.throws(() => claimOutputFolder(dir, { overwrite: true, resuming: true }, () => {}), { message: /--overwrite and --resume contradict each other/ });
});
