/**
 * The environment variables the CLIs read, by the option they stand for, so that a launcher
 * (pm2, a job scheduler, a container) can configure a process without building its command line.
 * Precedence, highest first: the flag, then the variable, then the config file, then the default.
 * One table, read by both CLIs and documented in the README ("CLI reference").
 */
export const CLI_ENV = {
  // the coordinator (`adalora coordinator`, `adalora run`)
  config: 'ADALORA_CONFIG',
  output: 'ADALORA_OUTPUT',
  host: 'ADALORA_HOST',
  port: 'ADALORA_PORT',
  minWorkers: 'ADALORA_MIN_WORKERS',
  tlsCert: 'ADALORA_TLS_CERT',
  tlsKey: 'ADALORA_TLS_KEY',
  // both
  backend: 'ADALORA_BACKEND',
  secretFile: 'ADALORA_SECRET_FILE',
  // the worker (`adalora worker`)
  coordinator: 'ADALORA_COORDINATOR',
  workerId: 'ADALORA_WORKER_ID',
  cacheDir: 'ADALORA_CACHE_DIR',
  tlsCa: 'ADALORA_TLS_CA',
  tlsFingerprint: 'ADALORA_TLS_FINGERPRINT',
  /**
   * The worker's index on its machine (pm2 sets it per instance: `instance_var`): the default
   * worker id's suffix and, unless the user pinned devices, its GPU (`CUDA_VISIBLE_DEVICES`).
   */
  workerIndex: 'ADALORA_WORKER_INDEX',
} as const;

export type CliEnvName = (typeof CLI_ENV)[keyof typeof CLI_ENV];
