import type { ProtocolMessage } from './messages';
import type { WireTensor } from './wire-tensor';

function bytesOf(ts: readonly WireTensor[]): string {
  const n = ts.reduce((s, t) => s + t.data.byteLength, 0);
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${n} B`;
}

/** A one-line description of a message for logs: type and sizes, never payload values. */
export function summarizeMessage(msg: ProtocolMessage): string {
  switch (msg.type) {
    case 'hello':
      return `hello v${msg.protocolVersion} worker=${msg.workerId} backend=${msg.capabilities.backend}`;
    case 'ready':
      return `ready run=${msg.runId} loadMs=${Math.round(msg.loadMs)}`;
    case 'gradients':
      return `gradients step=${msg.step} request=${msg.requestId} n=${msg.sampleCount} tensors=${msg.tensors.length} (${bytesOf(msg.tensors)})`;
    case 'evalResult':
      return `evalResult request=${msg.requestId} n=${msg.sampleIds.length}`;
    case 'error':
      return `error ${msg.code}`;
    case 'heartbeat':
      return 'heartbeat';
    case 'challenge':
      return `challenge v${msg.protocolVersion}`;
    case 'authenticated':
      return 'authenticated';
    case 'welcome':
      return `welcome v${msg.protocolVersion} run=${msg.runId} worker#${msg.workerIndex}`;
    case 'reject':
      return `reject ${msg.code}`;
    case 'state':
      return `state step=${msg.step} tensors=${msg.tensors.length} (${bytesOf(msg.tensors)})`;
    case 'compute':
      return `compute step=${msg.step} request=${msg.requestId} n=${msg.samples.sampleIds.length}`;
    case 'evaluate':
      return `evaluate request=${msg.requestId} n=${msg.samples.sampleIds.length}`;
    case 'shutdown':
      return 'shutdown';
    default: {
      const _never: never = msg; // every message type is described above
      return `unknown ${(_never as { type: string }).type}`;
    }
  }
}
