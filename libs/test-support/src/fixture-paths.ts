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

/**
 * A path inside the shared fixtures, `../shared/fixtures` beside the repo as CI lays it out:
 * `fixturePath('bert', 'config.json')`; `fixturePath()` is the folder itself. The one place that
 * knows where the fixtures are.
 */
export function fixturePath(...parts: string[]): string {
  return resolve(repoRoot(), '../shared/fixtures', ...parts);
}
