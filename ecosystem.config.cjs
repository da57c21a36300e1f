// pm2 process file for multi-machine runs (README "Several machines"). On the coordinator's machine:
//   ADALORA_ROLE=coordinator ADALORA_CONFIG=job.yaml ADALORA_SECRET_FILE=run.secret ADALORA_MIN_WORKERS=4 npx pm2 start ecosystem.config.cjs
// On each GPU machine (one worker per GPU):
//   ADALORA_ROLE=worker ADALORA_COORDINATOR=ws://10.0.0.1:7070 ADALORA_SECRET_FILE=run.secret ADALORA_WORKERS=2 npx pm2 start ecosystem.config.cjs
// The workers are one pm2 app with ADALORA_WORKERS instances (`pm2 scale adalora-worker 4` adds
// more); pm2 gives each its index in ADALORA_WORKER_INDEX (instance_var), from which the worker
// CLI itself, before tfjs loads, takes its id (<host>-<index>) and its GPU (CUDA_VISIBLE_DEVICES=<index>,
// or the index-th entry of a CUDA_VISIBLE_DEVICES list the user set; ADALORA_GPUS_PER_WORKER=0: no pinning).
// ADALORA_OUTPUT: the coordinator's output folder (else the config's outputDir).
// Every ADALORA_* setting below is also read by the CLIs themselves (flag > variable > config file > default).
// Workers reconnect with back-off by themselves, and a finished run stops them: pm2 does not restart either.
// Security (see README "Security"): ADALORA_SECRET (inherited by the processes) or ADALORA_SECRET_FILE on
// every machine; ADALORA_TLS_CERT + ADALORA_TLS_KEY on the coordinator's, ADALORA_TLS_CA or
// ADALORA_TLS_FINGERPRINT on the workers' (with ADALORA_COORDINATOR=wss://…).
const path = require('node:path');

const env = process.env;
// The CLI by its absolute path, run in the folder `pm2 start` was run from: pm2 finds the script
// from any folder, and relative paths (config, secret, output) keep meaning that folder.
const script = path.join(__dirname, 'bin/adalora.mjs');
const cwd = process.cwd();
const role = env.ADALORA_ROLE ?? 'coordinator';
const roles = new Set(['coordinator', 'worker', 'both']);
if (!roles.has(role)) throw new Error(`ADALORA_ROLE must be coordinator, worker or both, got '${role}'`);
const workers = Number(env.ADALORA_WORKERS ?? 1);
if (!Number.isInteger(workers) || workers < 1) throw new Error(`ADALORA_WORKERS must be an integer >= 1, got '${env.ADALORA_WORKERS}'`);
const port = env.ADALORA_PORT ?? '7070';

const secretArgs = env.ADALORA_SECRET_FILE ? ['--secret-file', env.ADALORA_SECRET_FILE] : [];

const apps = [];
if (role === 'coordinator' || role === 'both') {
  apps.push({
    name: 'adalora-coordinator',
    script,
    cwd,
    args: [
      'coordinator',
      ...(env.ADALORA_CONFIG ? ['--config', env.ADALORA_CONFIG] : []),
      '--host', env.ADALORA_HOST ?? '0.0.0.0',
      '--port', port,
      '--min-workers', env.ADALORA_MIN_WORKERS ?? String(workers),
      ...secretArgs,
      ...(env.ADALORA_TLS_CERT ? ['--tls-cert', env.ADALORA_TLS_CERT, '--tls-key', env.ADALORA_TLS_KEY ?? ''] : []),
      ...(env.ADALORA_OUTPUT ? ['--output', env.ADALORA_OUTPUT] : []),
      '--no-progress',
    ],
    autorestart: false,
  });
}
if (role === 'worker' || role === 'both') {
  apps.push({
    name: 'adalora-worker',
    script,
    cwd,
    args: [
      'worker',
      '--coordinator', env.ADALORA_COORDINATOR ?? `ws://127.0.0.1:${port}`,
      '--backend', env.ADALORA_BACKEND ?? 'auto',
      ...secretArgs,
      ...(env.ADALORA_TLS_CA ? ['--tls-ca', env.ADALORA_TLS_CA] : []),
      ...(env.ADALORA_TLS_FINGERPRINT ? ['--tls-fingerprint', env.ADALORA_TLS_FINGERPRINT] : []),
    ],
    // N processes of one app (fork mode: each its own node process, no shared port); pm2
    // numbers them 0..N-1 in ADALORA_WORKER_INDEX, stable across restarts and `pm2 scale`
    exec_mode: 'fork',
    instances: workers,
    instance_var: 'ADALORA_WORKER_INDEX',
    autorestart: false,
  });
}

module.exports = { apps };
