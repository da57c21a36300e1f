import { CLI_ENV } from '@adalora/config';

/** What {@link deviceForWorker} decided, and why (logged by the worker). */
export interface DeviceChoice {
  /** The CUDA_VISIBLE_DEVICES this process should have; null = leave the environment alone. */
  readonly cudaVisibleDevices: string | null;
  readonly reason: string;
}

/**
 * One GPU per worker process on a machine with several: the worker with index i
 * (ADALORA_WORKER_INDEX, which pm2 sets per instance) sees device i only. A user who set
 * CUDA_VISIBLE_DEVICES keeps it: a single device is left as it is, a list of devices is shared
 * out (index i gets the list's i-th entry). ADALORA_GPUS_PER_WORKER=0 turns pinning off (CPU
 * machines, or a backend that places work itself). Must run before tfjs loads: CUDA reads the
 * variable once, when it initialises.
 */
export function deviceForWorker(env: Readonly<Record<string, string | undefined>>): DeviceChoice {
  const raw = env[CLI_ENV.workerIndex];
  if (raw === undefined || raw === '') return { cudaVisibleDevices: null, reason: `no ${CLI_ENV.workerIndex}: devices left as they are` };
  const index = Number(raw);
  if (!Number.isInteger(index) || index < 0) throw new Error(`${CLI_ENV.workerIndex} must be an integer >= 0, got '${raw}'`);
  if (env.ADALORA_GPUS_PER_WORKER === '0') return { cudaVisibleDevices: null, reason: 'ADALORA_GPUS_PER_WORKER=0: no device pinning' };
  const user = env.CUDA_VISIBLE_DEVICES;
  if (user === undefined || user.trim() === '') return { cudaVisibleDevices: String(index), reason: `worker index ${index}` };
  const devices = user.split(',').map((d) => d.trim());
  if (devices.length === 1) return { cudaVisibleDevices: null, reason: `CUDA_VISIBLE_DEVICES=${user} set by the user: kept` };
  if (index >= devices.length) {
    throw new Error(`${CLI_ENV.workerIndex}=${index} but CUDA_VISIBLE_DEVICES=${user} lists ${devices.length} devices: start at most ${devices.length} workers on this machine, or list more devices`);
  }
  return { cudaVisibleDevices: devices[index], reason: `worker index ${index} of CUDA_VISIBLE_DEVICES=${user}` };
}
