import { readFileSync } from 'node:fs';
import { readRunSecret } from '@adalora/protocol';
import type { ClusterConfig } from '@adalora/config';

/** How the coordinator's port is protected. */
export interface ClusterSecurity {
  /** the run secret workers must prove, or null (then only loopback, unless `insecure`) */
  readonly secret: Uint8Array | null;
  /** PEM certificate and key for wss, or null for plain ws */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | null;
  /** listen beyond loopback without a secret (`--insecure`) */
  readonly insecure: boolean;
}

/**
 * Reads the secret (cluster.secretFile, else ADALORA_SECRET) and the TLS files named by the
 * config, before any model is loaded; errors name the field or file.
 */
export function loadClusterSecurity(cluster: ClusterConfig, env: Readonly<Record<string, string | undefined>>, insecure = false): ClusterSecurity {
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`${field} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const tls = cluster.tlsCert !== undefined && cluster.tlsKey !== undefined ? { cert: read('cluster.tlsCert', cluster.tlsCert), key: read('cluster.tlsKey', cluster.tlsKey) } : null;
  return { secret: readRunSecret(cluster.secretFile, env), tls, insecure };
}

/** True for addresses only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Whether the coordinator may listen on `host`: without a secret only on loopback, unless
 * `insecure` says otherwise. Returns what to log about it (loudly, for --insecure); throws with
 * what to do when it may not. Pure, so that a CLI can check it before loading anything.
 */
export function listenPolicy(host: string, security: ClusterSecurity): string {
  if (security.secret) {
    if (!security.tls && !isLoopback(host)) return `workers must prove the run secret; no TLS (cluster.tlsCert/tlsKey): the run's data and adapter cross the network in the clear, the secret never does`;
    return `workers must prove the run secret${security.tls ? '; serving wss' : ''}`;
  }
  if (isLoopback(host)) return `no run secret (cluster.secretFile or ADALORA_SECRET): listening on loopback ${host} only, for workers on this machine`;
  if (!security.insecure) {
    throw new Error(`cluster.host ${host} is reachable from other machines: set a run secret (--secret-file, cluster.secretFile or ADALORA_SECRET), or pass --insecure to let anyone who can reach it join`);
  }
  return `WARNING: --insecure: listening on ${host} with NO secret. Anyone who can reach this port can join as a worker, read the run's config and adapter, and change the trained model.`;
}
