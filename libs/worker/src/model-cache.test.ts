import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSpec } from '@adalora/protocol';
import { cachedModelDir, defaultCacheDir } from './model-cache';

const content = new TextEncoder().encode('{"model_type": "bert"}');
const sha256 = createHash('sha256').update(content).digest('hex');
const run: RunSpec = { workerJob: {}, modelPath: '/elsewhere', modelFiles: [{ name: 'config.json', sha256, bytes: content.byteLength }], modelHash: 'ab'.repeat(32), dataHash: 'd' };

test('a file is fetched once, checked, and then used from the cache', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'adalora-model-cache-'));
  try {
    let fetches = 0;
    const fetch = async (_: unknown, to: string) => (fetches++, writeFileSync(to, content));
    const dir = await cachedModelDir(run, cache, fetch, () => {});
    t.is(dir, join(cache, run.modelHash));
    t.deepEqual(readFileSync(join(dir, 'config.json')), Buffer.from(content));
    await cachedModelDir(run, cache, fetch, () => {});
    t.is(fetches, 1);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('bytes from the coordinator that do not match their hash are refused and not kept', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'adalora-model-cache-'));
  try {
    const e = await t.throwsAsync(cachedModelDir(run, cache, async (_, to) => writeFileSync(to, 'something else'), () => {}));
    t.regex(e!.message, /model file config\.json from the coordinator does not match its hash/);
    t.deepEqual(readdirSync(join(cache, run.modelHash)), [], 'no file and no partial file left');
    t.false(existsSync(join(cache, run.modelHash, 'config.json')));
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('a model hash that could name a folder outside the cache is refused', async (t) => {
  await t.throwsAsync(cachedModelDir({ ...run, modelHash: '../../etc' }, tmpdir(), async () => {}, () => {}), { message: /is not a hex digest/ });
});

test('the default cache follows XDG_CACHE_HOME', (t) => {
  t.is(defaultCacheDir({ XDG_CACHE_HOME: '/c' }), '/c/adalora/models');
  t.regex(defaultCacheDir({}), /\.cache\/adalora\/models$/);
});
