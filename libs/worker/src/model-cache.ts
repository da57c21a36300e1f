import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MODEL_FILES_PATH, sha256OfFile, type ModelFile, type RunSpec } from '@adalora/protocol';
import { trustedTlsSocket, type WorkerTls } from './tls-client';

/** Where model files are cached by default: `$XDG_CACHE_HOME/adalora/models`, else `~/.cache/adalora/models`. */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'adalora', 'models');
}

/** Fetches one model file's bytes into `to` (without checking them: `cachedModelDir` does). */
export type FetchModelFile = (file: ModelFile, to: string) => Promise<void>;


async function holds(path: string, file: ModelFile): Promise<boolean> {
  return existsSync(path) && statSync(path).size === file.bytes && (await sha256OfFile(path)) === file.sha256;
}

/**
 * The folder holding the run's model files, each checked against its SHA-256 before use:
 * `<cacheDir>/<modelHash>/<name>`. A missing file, or one whose bytes do not match (tampered,
 * truncated), is fetched again and checked before it replaces the old one.
 */
export async function cachedModelDir(run: RunSpec, cacheDir: string, fetchFile: FetchModelFile, log: (line: string) => void): Promise<string> {
  if (!/^[0-9a-f]{16,128}$/.test(run.modelHash)) throw new Error(`model hash '${run.modelHash.slice(0, 80)}' is not a hex digest: cannot name a cache folder after it`);
  const dir = join(cacheDir, run.modelHash);
  mkdirSync(dir, { recursive: true });
  for (const file of run.modelFiles) {
    const path = join(dir, file.name);
    if (await holds(path, file)) continue;
    if (existsSync(path)) log(`cached ${path} does not match its hash ${file.sha256.slice(0, 12)}…: fetching it again`);
    const part = `${path}.part-${process.pid}`;
    try {
      await fetchFile(file, part);
      if (!(await holds(part, file))) throw new Error(`model file ${file.name} from the coordinator does not match its hash ${file.sha256.slice(0, 12)}… (or its size ${file.bytes})`);
      renameSync(part, path);
    } finally {
      rmSync(part, { force: true });
    }
    log(`fetched ${file.name} (${file.bytes} bytes, sha256 ${file.sha256.slice(0, 12)}…)`);
  }
  return dir;
}

/**
 * Fetches model files over HTTP(S) from the coordinator at `coordinatorUrl` (its ws/wss URL),
 * with the connection's file token; at most `file.bytes` bytes are written.
 */
export function httpModelFetcher(coordinatorUrl: string, token: string, tls: WorkerTls | null): FetchModelFile {
  const url = new URL(coordinatorUrl);
  const secure = url.protocol === 'wss:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (secure ? 443 : 80));
  return async (file, to) => {
    const socket = secure ? await trustedTlsSocket(tls ?? {}, host, port) : undefined;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({
        host,
        port,
        path: `${MODEL_FILES_PATH}/${file.sha256}`,
        headers: { authorization: `Bearer ${token}` },
        ...(socket && { createConnection: () => socket }),
      });
      req.on('response', resolve).on('error', reject).end();
    });
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`model file ${file.name}: the coordinator answered HTTP ${res.statusCode}`);
    }
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(to);
      let received = 0;
      res.on('data', (b: Buffer) => {
        received += b.byteLength;
        if (received > file.bytes) res.destroy(new Error(`model file ${file.name}: more than its ${file.bytes} bytes`));
      });
      res.on('error', (e) => (out.destroy(), reject(e)));
      out.on('error', reject).on('finish', () => resolve());
      res.pipe(out);
    });
  };
}
