import test from 'ava';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { registerCpuVariant } from '@adalora/test-support';
import { backendCandidates, type BackendCandidate } from './candidates';
import { loadBackend } from './load-backend';

// The native packages are optional peers: what `auto` and `tensorflow` must do depends on them.
const require = createRequire(import.meta.url);
const installed = (name: string) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};
const NATIVE = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].filter(installed);
const withoutNative = NATIVE.length === 0 ? test.serial : test.serial.skip;
const withNative = NATIVE.length > 0 ? test.serial : test.serial.skip;
const nativeNote = NATIVE.length > 0 ? ` [skipped: ${NATIVE.join(', ')} installed here]` : '';

// loadBackend sets tfjs's global backend: run these one at a time.
const collect = () => {
  const lines: string[] = [];
  return { lines, log: (line: string) => void lines.push(line) };
};

withoutNative(`auto without native packages: both are passed over as not installed, and wasm passes its proof${nativeNote}`, async (t) => {
  const { lines, log } = collect();
  const report = await loadBackend('auto', { log });
  t.is(report.name, 'wasm');
  t.is(tf.getBackend(), 'wasm');
  t.is(report.package, '@tensorflow/tfjs-backend-wasm');
  t.deepEqual(
    report.tried.map(({ package: p, ok, reason }) => ({ p, ok, reason })),
    [
      { p: '@tensorflow/tfjs-node-gpu', ok: false, reason: 'not installed (optional peer dependency)' },
      { p: '@tensorflow/tfjs-node', ok: false, reason: 'not installed (optional peer dependency)' },
      { p: '@tensorflow/tfjs-backend-wasm', ok: true, reason: undefined },
    ],
  );
  t.is(lines.length, 3, lines.join('\n'));
  t.regex(lines[0], /passed over @tensorflow\/tfjs-node-gpu .*not installed/);
  t.regex(lines[1], /passed over @tensorflow\/tfjs-node .*not installed/);
  t.regex(lines[2], /using 'wasm' from @tensorflow\/tfjs-backend-wasm/);
});

withNative(`tensorflow with a native package installed: chosen after its proof step${NATIVE.length ? '' : ' [skipped: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed here]'}`, async (t) => {
  const { lines, log } = collect();
  const report = await loadBackend('tensorflow', { log });
  t.is(report.name, 'tensorflow');
  t.true(report.tried.some((a) => a.ok && a.package === report.package));
  t.regex(lines.at(-1) ?? '', /using 'tensorflow'/);
});

test.serial('cpu, explicitly', async (t) => {
  const { lines, log } = collect();
  const report = await loadBackend('cpu', { log });
  t.is(report.name, 'cpu');
  t.is(tf.getBackend(), 'cpu');
  t.deepEqual(report.tried.map((a) => a.ok), [true]);
  t.is(lines.length, 1);
});

test.serial('wasm, explicitly, with wasmThreads 2: chosen, and the ignored thread count is logged', async (t) => {
  const { lines, log } = collect();
  const report = await loadBackend('wasm', { log, wasmThreads: 2 });
  t.is(report.name, 'wasm');
  t.regex(lines.join('\n'), /wasmThreads=2 ignored/);
});

withoutNative(`tensorflow without native packages fails with a message naming both and how to install them${nativeNote}`, async (t) => {
  const err = await t.throwsAsync(loadBackend('tensorflow', { log: () => {} }));
  const msg = err?.message ?? '';
  t.regex(msg, /@tensorflow\/tfjs-node-gpu: not installed/);
  t.regex(msg, /@tensorflow\/tfjs-node: not installed/);
  t.regex(msg, /npm install @tensorflow\/tfjs-node@\d+\.\d+\.\d+/);
  t.regex(msg, /npm install @tensorflow\/tfjs-node-gpu@\d+\.\d+\.\d+/);
});

test.serial('candidates that fail to load or mis-compute are passed over, each with its reason logged', async (t) => {
  registerCpuVariant('cpu-bad-matmul', { corrupt: { BatchMatMul: (v) => v.forEach((x, i) => (v[i] = x * 1.001)) } });
  const throwing: BackendCandidate = {
    package: 'fake-native',
    backendName: 'fake-native',
    load: async () => {
      throw new Error('libtensorflow.so: cannot open shared object file');
    },
  };
  const wrong: BackendCandidate = { package: 'fake-wrong-matmul', backendName: 'cpu-bad-matmul', load: async () => {} };
  const unregistered: BackendCandidate = { package: 'fake-unregistered', backendName: 'no-such-backend', load: async () => {} };
  const { lines, log } = collect();
  const report = await loadBackend('auto', { log, candidates: [throwing, wrong, unregistered, ...backendCandidates('cpu')] });
  t.is(report.name, 'cpu');
  t.deepEqual(report.tried.map((a) => a.ok), [false, false, false, true]);
  t.is(report.tried[0].reason, 'libtensorflow.so: cannot open shared object file');
  t.regex(report.tried[1].reason ?? '', /^loss .* differs from reference/);
  t.regex(report.tried[2].reason ?? '', /no-such-backend/);
  t.is(lines.length, 4);
  t.regex(lines[0], /passed over fake-native .*libtensorflow\.so/);
  t.regex(lines[1], /passed over fake-wrong-matmul .*differs from reference/);
  t.regex(lines[2], /passed over fake-unregistered/);
  t.regex(lines[3], /using 'cpu'/);
});

test.serial('when no candidate passes, the error lists every reason', async (t) => {
  const failing: BackendCandidate = { package: 'fake', backendName: 'fake', load: async () => Promise.reject(new Error('boom')) };
  const err = await t.throwsAsync(loadBackend('wasm', { log: () => {}, candidates: [failing] }));
  t.is(err?.message, "no backend for choice 'wasm' passed (fake: boom)");
});

test.serial('overlapping loads queue instead of racing on the one active backend', async (t) => {
  const quiet = { log: () => {} };
  const reports = await Promise.all([loadBackend('wasm', quiet), loadBackend('cpu', quiet), loadBackend('wasm', quiet)]);
  t.deepEqual(reports.map((r) => r.name), ['wasm', 'cpu', 'wasm']);
  t.is(tf.getBackend(), 'wasm');
});
