import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root (the folder with nx.json), found from this file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repoRoot: no nx.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** `../shared/fixtures` beside the repo, as CI lays it out. */
export function fixturesDir(): string {
  return resolve(repoRoot(), '../shared/fixtures');
}
