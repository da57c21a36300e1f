/**
 * Speed of the kernels our training leans on, per available tfjs backend:
 * a 512×512×512 matMul (plain, with transposeB, with transposeA, and transposeB done as an
 * explicit transpose + plain matMul) in GFLOP/s, and erf in ms per million elements.
 *
 *   npx tsx tools/bench-backends.ts [--seconds 1]
 */
import * as tf from '@tensorflow/tfjs';
import { backendCandidates, loadBackend } from '@adalora/backend';

const SIZE = 512;
const ERF_ELEMENTS = 1 << 20;
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 1;
if (!(SECONDS > 0)) throw new Error(`--seconds must be a positive number, got '${process.argv[secondsArg + 1]}'`);

/**
 * Best-of ms of `run` over about SECONDS of repeats: the minimum, because other processes share
 * this machine's 2 cores and only ever add time. The result is read back to force completion.
 */
function timeMs(run: () => tf.Tensor): number {
  // tidy must return void here: a returned typed array would be walked element by element.
  const once = () => tf.tidy(() => void run().dataSync());
  once(); // warm-up: compiles/allocates outside the timing
  let best = Infinity;
  const start = performance.now();
  for (let reps = 0; reps < 3 || performance.now() - start < SECONDS * 1000; reps++) {
    const t0 = performance.now();
    once();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

interface Result { matMul: number; transposeA: number; transposeB: number; explicitTranspose: number; erfMsPerM: number }

function bench(): Result {
  const [a, b, x] = [tf.randomNormal([SIZE, SIZE]), tf.randomNormal([SIZE, SIZE]), tf.randomNormal([ERF_ELEMENTS])];
  const gflops = (ms: number) => (2 * SIZE ** 3) / (ms * 1e6);
  try {
    return {
      matMul: gflops(timeMs(() => tf.matMul(a, b))),
      transposeA: gflops(timeMs(() => tf.matMul(a, b, true, false))), // as in a weight gradient xᵀ dy
      transposeB: gflops(timeMs(() => tf.matMul(a, b, false, true))), // as in an input gradient dy Wᵀ
      explicitTranspose: gflops(timeMs(() => tf.matMul(a, tf.transpose(b)))),
      erfMsPerM: (timeMs(() => tf.erf(x)) * 1e6) / ERF_ELEMENTS,
    };
  } finally {
    tf.dispose([a, b, x]);
  }
}

const results = new Map<string, Result>();
for (const candidate of backendCandidates('auto')) {
  let lastLog = '';
  try {
    const report = await loadBackend('auto', { candidates: [candidate], log: (line) => (lastLog = line) });
    const label = `${report.name} (${candidate.package})`;
    if (results.has(label)) continue;
    const r = bench();
    results.set(label, r);
    console.log(
      `${label}: matMul ${r.matMul.toFixed(2)} GFLOP/s, transposeB ${r.transposeB.toFixed(2)} GFLOP/s ` +
        `(${(r.matMul / r.transposeB).toFixed(1)}x slower), transposeA ${r.transposeA.toFixed(2)} GFLOP/s, transpose+matMul ${r.explicitTranspose.toFixed(2)} GFLOP/s, ` +
        `erf ${r.erfMsPerM.toFixed(2)} ms per million`,
    );
  } catch {
    console.log(`${candidate.package}: unavailable (${lastLog.replace(/^backend: passed over .*?: /, '')})`);
  }
}

// Ratios of every backend against the last one (cpu, the slowest and always present).
const entries = [...results.entries()];
const base = entries.at(-1);
if (base !== undefined) {
  for (const [label, r] of entries.slice(0, -1)) {
    console.log(
      `ratio ${label} / ${base[0]}: matMul ${(r.matMul / base[1].matMul).toFixed(1)}x, ` +
        `transposeB ${(r.transposeB / base[1].transposeB).toFixed(1)}x, erf ${(base[1].erfMsPerM / r.erfMsPerM).toFixed(1)}x faster`,
    );
  }
}
