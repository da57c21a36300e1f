import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeManifest } from './checkpoint-manifest';
import { checkpointsOf, latestCheckpoint } from './latest-checkpoint';

const dirs: string[] = [];
test.after.always(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function outputDir(checkpoints: readonly string[]): string {
  const out = mkdtempSync(join(tmpdir(), 'latest-test-'));
  dirs.push(out);
  for (const name of checkpoints) {
    mkdirSync(join(out, name));
    writeFileSync(join(out, name, 'trainer_state.safetensors'), Buffer.alloc(32, 1));
    writeManifest(join(out, name));
  }
  return out;
}

test('checkpoints are ordered newest first: final/, then by step as a number; other folders are not checkpoints', (t) => {
  const out = outputDir(['checkpoint-8', 'checkpoint-12', 'checkpoint-100', 'final', 'task', 'checkpoint-16.tmp-77']);
  writeFileSync(join(out, 'checkpoint-4'), 'a file, not a folder');
  t.deepEqual(checkpointsOf(out), ['final', 'checkpoint-100', 'checkpoint-12', 'checkpoint-8'].map((n) => join(out, n)));
  t.deepEqual(checkpointsOf(join(out, 'absent')), []);
});

test('latest skips a damaged checkpoint, logging which file and why, and takes the one before', (t) => {
  const out = outputDir(['checkpoint-4', 'checkpoint-8', 'final']);
  truncateSync(join(out, 'final', 'trainer_state.safetensors'), 10);
  writeFileSync(join(out, 'checkpoint-8', 'trainer_state.safetensors'), Buffer.alloc(32, 2));
  const lines: string[] = [];
  t.is(latestCheckpoint(out, (l) => lines.push(l)), join(out, 'checkpoint-4'));
  t.is(lines.length, 2);
  t.is(lines[0], `not resuming from ${join(out, 'final')}: trainer_state.safetensors: 10 bytes, the manifest says 32 (truncated); trying the previous checkpoint`);
  t.regex(lines[1], /checkpoint-8: trainer_state\.safetensors: SHA-256 .* \(the file was changed\); trying the previous checkpoint$/);
});

test('latest with no checkpoint is none (a fresh start); with only damaged ones it is an error naming each', (t) => {
  t.is(latestCheckpoint(outputDir([]), () => {}), null);
  const out = outputDir(['checkpoint-4']);
  truncateSync(join(out, 'checkpoint-4', 'trainer_state.safetensors'), 0);
  t.throws(() => latestCheckpoint(out, () => {}), {
    message: `resume latest: no intact checkpoint in ${out} (${join(out, 'checkpoint-4')}: trainer_state.safetensors: 0 bytes, the manifest says 32 (truncated))`,
  });
});
