/**
 * `npm run bench`: runs every benchmark below, one after the other, each in its own process (a
 * benchmark loads its own tfjs backend and must not share a heap with another; `gc()` is exposed
 * to those that settle the heap between measurements). To add one,
 * append its file to BENCHES.
 *
 *   npm run bench [-- name ...]   (names filter, e.g. `npm run bench -- workers adalora-step`)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'bench-allocator.ts',
  'bench-adamw.ts',
  'bench-protocol.ts',
  'bench-encoder-step.ts',
  'bench-backends.ts',
  'bench-workers.ts',
  'bench-adalora-step.ts',
  'bench-optimizer-cpu.ts',
  'bench-optimizer-step.ts',
  'bench-coordinator.ts',
] as const;

const only = process.argv.slice(2);
const chosen = BENCHES.filter((b) => only.length === 0 || only.some((o) => b === `bench-${o}.ts` || b === o));
if (chosen.length === 0) {
  console.error(`bench: no benchmark matches ${only.join(', ')} (have: ${BENCHES.join(', ')})`);
  process.exit(1);
}
let failed = 0;
for (const file of chosen) {
  console.log(`\n=== ${file} (${new Date().toISOString()})`);
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', import.meta.resolve('tsx'), fileURLToPath(new URL(file, import.meta.url))], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.error(`bench: ${file} failed (exit ${run.status ?? run.signal})`);
  }
}
process.exit(failed ? 1 : 0);
