import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneCheckpoints } from './checkpoint-retention';

function outputDir(t: { teardown(fn: () => void): void }, names: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-retention-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const n of names) mkdirSync(join(dir, n));
  return dir;
}

test('saveTotalLimit keeps the newest N checkpoint-<step> folders by step (not by name), never final/ or best/', (t) => {
  const dir = outputDir(t, ['checkpoint-5', 'checkpoint-10', 'checkpoint-15', 'checkpoint-100', 'final', 'best', 'task']);
  const log: string[] = [];
  const removed = pruneCheckpoints(dir, 2, null, (l) => log.push(l));
  t.deepEqual(removed, [join(dir, 'checkpoint-10'), join(dir, 'checkpoint-5')]);
  t.deepEqual(readdirSync(dir).sort(), ['best', 'checkpoint-100', 'checkpoint-15', 'final', 'task']);
  t.deepEqual(log, [`saveTotalLimit 2: deleted ${join(dir, 'checkpoint-10')}, ${join(dir, 'checkpoint-5')}`]);
  t.deepEqual(pruneCheckpoints(dir, 2, null, () => t.fail('nothing to log')), []);
});

test('saveTotalLimit never deletes the checkpoint the run resumed from', (t) => {
  const dir = outputDir(t, ['checkpoint-4', 'checkpoint-8', 'checkpoint-12']);
  pruneCheckpoints(dir, 1, join(dir, 'checkpoint-4') + '/', () => {});
  t.deepEqual(readdirSync(dir).sort(), ['checkpoint-12', 'checkpoint-4']);
});
