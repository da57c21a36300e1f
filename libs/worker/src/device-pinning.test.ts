import test from 'ava';
import { deviceForWorker } from './device-pinning';

test('worker index i sees device i when the user set no devices', (t) => {
  t.is(deviceForWorker({ ADALORA_WORKER_INDEX: '0' }).cudaVisibleDevices, '0');
  t.is(deviceForWorker({ ADALORA_WORKER_INDEX: '3' }).cudaVisibleDevices, '3');
});

test('no index (not started by pm2): devices left alone', (t) => {
  t.is(deviceForWorker({}).cudaVisibleDevices, null);
  t.is(deviceForWorker({ CUDA_VISIBLE_DEVICES: '2' }).cudaVisibleDevices, null);
});

test("the user's CUDA_VISIBLE_DEVICES wins: one device kept, a list shared out by index", (t) => {
  t.is(deviceForWorker({ ADALORA_WORKER_INDEX: '1', CUDA_VISIBLE_DEVICES: '5' }).cudaVisibleDevices, null);
  t.is(deviceForWorker({ ADALORA_WORKER_INDEX: '0', CUDA_VISIBLE_DEVICES: '4,6' }).cudaVisibleDevices, '4');
  t.is(deviceForWorker({ ADALORA_WORKER_INDEX: '1', CUDA_VISIBLE_DEVICES: '4, 6' }).cudaVisibleDevices, '6');
  t.throws(() => deviceForWorker({ ADALORA_WORKER_INDEX: '2', CUDA_VISIBLE_DEVICES: '4,6' }), { message: /ADALORA_WORKER_INDEX=2 .*lists 2 devices/ });
});

test('ADALORA_GPUS_PER_WORKER=0 turns pinning off; a bad index is refused, naming the variable', (t) => {
  t.is(deviceForWorker({ ADALORA_WORKER_INDEX: '1', ADALORA_GPUS_PER_WORKER: '0' }).cudaVisibleDevices, null);
  t.throws(() => deviceForWorker({ ADALORA_WORKER_INDEX: 'x' }), { message: /ADALORA_WORKER_INDEX must be an integer/ });
});
