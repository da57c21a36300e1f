import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** The checksum manifest inside every checkpoint folder, written last. */
export const MANIFEST_FILE = 'manifest.json';

interface Manifest {
  readonly algorithm: 'sha256';
  /** relative path (with '/') → size and SHA-256 of every other file of the checkpoint */
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
}

/** A checkpoint whose files are not what its manifest says: names the file and why. */
export class CheckpointIntegrityError extends Error {
  constructor(
    readonly dir: string,
    readonly file: string,
    readonly why: string,
  ) {
    super(`checkpoint ${dir}: ${file}: ${why}`);
  }
}

/**
 * Makes a freshly written checkpoint folder durable and self-checking: fsyncs every file,
 * writes (and fsyncs) the manifest with the size and SHA-256 of each, then fsyncs every folder
 * so the entries themselves survive a power cut. Call it once all other files are written.
 */
export function writeManifest(dir: string): void {
  const files: Record<string, { bytes: number; sha256: string }> = {};
  for (const path of filesUnder(dir)) {
    if (path === join(dir, MANIFEST_FILE)) continue;
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const bytes = readFileSync(path);
    files[relative(dir, path).split(sep).join('/')] = { bytes: bytes.length, sha256: sha256(bytes) };
  }
  const manifest: Manifest = { algorithm: 'sha256', files };
  writeFileDurably(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
  for (const folder of foldersUnder(dir)) fsyncDir(folder);
}

/**
 * Checks a checkpoint folder against its manifest: every listed file present with its size and
 * SHA-256, and no file the manifest does not list. Throws CheckpointIntegrityError naming the
 * first file at fault (a truncated file says so by its size, a changed one by its hash).
 */
export function checkManifest(dir: string): void {
  const fail = (file: string, why: string): never => {
    throw new CheckpointIntegrityError(dir, file, why);
  };
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) fail(MANIFEST_FILE, 'missing (the write was interrupted, or the folder is not a checkpoint of this version)');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (e) {
    return fail(MANIFEST_FILE, `not valid JSON (${(e as Error).message})`);
  }
  if (manifest?.algorithm !== 'sha256' || typeof manifest.files !== 'object' || manifest.files === null) fail(MANIFEST_FILE, 'not a sha256 manifest');
  const listed = new Set(Object.keys(manifest.files));
  for (const [file, want] of Object.entries(manifest.files)) {
    const path = join(dir, ...file.split('/'));
    if (!existsSync(path)) fail(file, 'missing');
    const bytes = readFileSync(path);
    if (bytes.length !== want.bytes) fail(file, `${bytes.length} bytes, the manifest says ${want.bytes} (${bytes.length < want.bytes ? 'truncated' : 'grown'})`);
    const got = sha256(bytes);
    if (got !== want.sha256) fail(file, `SHA-256 ${got.slice(0, 12)}… differs from the manifest's ${String(want.sha256).slice(0, 12)}… (the file was changed)`);
  }
  for (const path of filesUnder(dir)) {
    const file = relative(dir, path).split(sep).join('/');
    if (file !== MANIFEST_FILE && !listed.has(file)) fail(file, 'not in the manifest');
  }
}

/** Writes a file and fsyncs it before returning. */
function writeFileDurably(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a folder, so that files created, renamed or removed in it stay so after a crash. */
export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile())
    .sort();
}

function foldersUnder(dir: string): string[] {
  const nested = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isDirectory());
  return [...nested, dir];
}
