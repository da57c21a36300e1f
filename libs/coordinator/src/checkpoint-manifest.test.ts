import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest, CheckpointIntegrityError, MANIFEST_FILE, writeManifest } from './checkpoint-manifest';

const dirs: string[] = [];
test.after.always(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// a small checkpoint-like folder with a nested file, its manifest written
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-test-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'adapter'));
  writeFileSync(join(dir, 'adapter', 'adapter_model.safetensors'), Buffer.alloc(64, 7));
  writeFileSync(join(dir, 'trainer_state.json'), '{"step": 8}');
  writeManifest(dir);
  return dir;
}

function fault(dir: string): { file: string; why: string } {
  const e = (() => {
    try {
      checkManifest(dir);
    } catch (e) {
      return e;
    }
    return null;
  })();
  if (!(e instanceof CheckpointIntegrityError)) throw new Error(`expected a CheckpointIntegrityError, got ${String(e)}`);
  return { file: e.file, why: e.why };
}

test('the manifest lists every file with its size and SHA-256, and an untouched folder passes', (t) => {
  const dir = folder();
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  t.deepEqual(Object.keys(manifest.files), ['adapter/adapter_model.safetensors', 'trainer_state.json']);
  t.is(manifest.files['trainer_state.json'].bytes, 11);
  t.regex(manifest.files['trainer_state.json'].sha256, /^[0-9a-f]{64}$/);
  t.notThrows(() => checkManifest(dir));
});

test('a truncated, a changed, a missing and an unlisted file are each named with why', (t) => {
  const truncated = folder();
  truncateSync(join(truncated, 'adapter', 'adapter_model.safetensors'), 40);
  t.deepEqual(fault(truncated), { file: 'adapter/adapter_model.safetensors', why: '40 bytes, the manifest says 64 (truncated)' });

  const changed = folder();
  writeFileSync(join(changed, 'trainer_state.json'), '{"step": 9}');
  const c = fault(changed);
  t.is(c.file, 'trainer_state.json');
  t.regex(c.why, /^SHA-256 [0-9a-f]{12}… differs from the manifest's [0-9a-f]{12}… \(the file was changed\)$/);

  const missing = folder();
  unlinkSync(join(missing, 'trainer_state.json'));
  t.deepEqual(fault(missing), { file: 'trainer_state.json', why: 'missing' });

  const unlisted = folder();
  writeFileSync(join(unlisted, 'adapter', 'extra.bin'), 'x');
  t.deepEqual(fault(unlisted), { file: 'adapter/extra.bin', why: 'not in the manifest' });

  const unfinished = folder();
  unlinkSync(join(unfinished, MANIFEST_FILE));
  t.deepEqual(fault(unfinished), { file: MANIFEST_FILE, why: 'missing (the write was interrupted, or the folder is not a checkpoint of this version)' });
  t.throws(() => checkManifest(unfinished), { message: `checkpoint ${unfinished}: ${MANIFEST_FILE}: missing (the write was interrupted, or the folder is not a checkpoint of this version)` });
});
