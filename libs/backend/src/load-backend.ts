import * as tf from '@tensorflow/tfjs';
import type { BackendChoice } from '@adalora/config';
import { TFJS_NODE, TFJS_NODE_GPU, backendCandidates, type BackendCandidate } from './candidates';
import { proveBackend } from './prove-backend';

/** One candidate that {@link loadBackend} tried. */
export interface BackendAttempt {
  package: string;
  ok: boolean;
  /** Why it was passed over (absent when ok). */
  reason?: string;
  /** Time to load and prove it. */
  ms: number;
}

/** What {@link loadBackend} chose, and what it tried on the way. */
export interface BackendReport {
  /** The active tfjs backend: 'tensorflow' | 'wasm' | 'cpu' (or an injected candidate's name). */
  name: string;
  /** The package that provides it. */
  package: string;
  tried: BackendAttempt[];
}

/** Options of {@link loadBackend}. */
export interface LoadBackendOptions {
  /** Receives one line for the choice and one per passed-over candidate; default console.log. */
  log?: (line: string) => void;
  /** Replaces the candidates that `choice` selects (tests inject failing ones here). */
  candidates?: BackendCandidate[];
  /** Threads for the wasm backend; see {@link CandidateOptions.wasmThreads}. */
  wasmThreads?: number;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Makes the best backend for `choice` the active tfjs backend. Each candidate, in order, is
 * loaded, set, and proven by one tiny training step against a float64 reference
 * (see {@link proveBackend}); the first that passes is chosen.
 * @throws Error listing every candidate's reason when none passes; for 'tensorflow' it names
 *   both native packages and how to install them.
 */
export function loadBackend(choice: BackendChoice, opts: LoadBackendOptions = {}): Promise<BackendReport> {
  // tfjs has one active backend per process: overlapping loads would race on it, so they queue
  const run = loading.then(() => loadBackendNow(choice, opts));
  loading = run.catch(() => undefined);
  return run;
}

let loading: Promise<unknown> = Promise.resolve();

async function loadBackendNow(choice: BackendChoice, opts: LoadBackendOptions): Promise<BackendReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const candidates = opts.candidates ?? backendCandidates(choice, { wasmThreads: opts.wasmThreads, log });
  const tried: BackendAttempt[] = [];
  for (const c of candidates) {
    const t0 = performance.now();
    try {
      await c.load();
      // setBackend returns false when the backend's initialization throws (tfjs logs a warning).
      if (!(await tf.setBackend(c.backendName))) throw new Error(`tf.setBackend('${c.backendName}') failed to initialize it`);
      proveBackend();
    } catch (e) {
      const reason = firstLine(e);
      tried.push({ package: c.package, ok: false, reason, ms: performance.now() - t0 });
      log(`backend: passed over ${c.package} ('${c.backendName}'): ${reason}`);
      continue;
    }
    const ms = performance.now() - t0;
    tried.push({ package: c.package, ok: true, ms });
    log(`backend: using '${tf.getBackend()}' from ${c.package} (choice '${choice}'; loaded and proven by one training step in ${ms.toFixed(0)} ms)`);
    return { name: tf.getBackend(), package: c.package, tried };
  }
  const reasons = tried.map((t) => `${t.package}: ${t.reason}`).join('; ');
  if (choice === 'tensorflow' && opts.candidates === undefined) {
    throw new Error(
      `backend 'tensorflow' needs ${TFJS_NODE_GPU} (CUDA GPU) or ${TFJS_NODE} (CPU), and neither works here (${reasons}). ` +
        `Install one with 'npm install ${TFJS_NODE}@${tf.version.tfjs}' or 'npm install ${TFJS_NODE_GPU}@${tf.version.tfjs}', ` +
        `or choose --backend auto, wasm or cpu`,
    );
  }
  throw new Error(`no backend for choice '${choice}' passed (${reasons || 'no candidates'})`);
}
