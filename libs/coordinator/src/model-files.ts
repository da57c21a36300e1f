import { createReadStream, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { MODEL_FILES_PATH, sha256OfFile, type ModelFile } from '@adalora/protocol';

/** The files of a model folder a worker may need: config, weights (single or sharded), tokenizer. */
const SERVED = /^(config\.json|.+\.safetensors|model\.safetensors\.index\.json|tokenizer(_config)?\.json|special_tokens_map\.json|added_tokens\.json|vocab\.(txt|json)|merges\.txt|spm\.model|.+\.model)$/;


/**
 * The base model's files, served by content hash to authenticated workers over the coordinator's
 * port. A request must carry the file token of a live authenticated connection (derived from its
 * handshake, see `modelFileToken`); anything else gets 401 before any file is opened.
 */
export class ModelFileServer {
  private readonly tokens = new Map<string, number>();
  private readonly byHash: ReadonlyMap<string, string>;

  private constructor(
    readonly manifest: readonly ModelFile[],
    paths: ReadonlyMap<string, string>,
  ) {
    this.byHash = paths;
  }

  /** Lists and hashes the files of `dir` that a worker may need. */
  static async of(dir: string): Promise<ModelFileServer> {
    const manifest: ModelFile[] = [];
    const paths = new Map<string, string>();
    for (const name of readdirSync(dir).filter((n) => SERVED.test(n)).sort()) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      const sha256 = await sha256OfFile(path);
      manifest.push({ name, sha256, bytes: statSync(path).size });
      paths.set(sha256, path);
    }
    return new ModelFileServer(manifest, paths);
  }

  grant(token: string): void {
    this.tokens.set(token, (this.tokens.get(token) ?? 0) + 1);
  }

  revoke(token: string): void {
    const n = (this.tokens.get(token) ?? 0) - 1;
    if (n > 0) this.tokens.set(token, n);
    else this.tokens.delete(token);
  }

  /** Answers a request for a model file; returns false (answering nothing) for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    if (!url.startsWith(`${MODEL_FILES_PATH}/`)) return false;
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (!this.tokens.has(token)) {
      res.writeHead(401).end();
    } else {
      const path = this.byHash.get(url.slice(MODEL_FILES_PATH.length + 1));
      if (!path) {
        res.writeHead(404).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(path).size });
        createReadStream(path).on('error', () => res.destroy()).pipe(res);
      }
    }
    return true;
  }

  /** True when this request carries a live token (its socket is then no longer an unauthenticated one). */
  authorizes(req: IncomingMessage): boolean {
    const auth = req.headers.authorization ?? '';
    return auth.startsWith('Bearer ') && this.tokens.has(auth.slice(7));
  }
}
