import * as tf from '@tensorflow/tfjs';
import type { BackendChoice } from '@adalora/config';

/**
 * One backend that {@link loadBackend} may try: `load()` makes `backendName` available to
 * `tf.setBackend` (imports and registers it); it throws when that is impossible.
 */
export interface BackendCandidate {
  /** The npm package that provides the backend, for logs and reports. */
  package: string;
  /** The name tfjs registers it under ('tensorflow', 'wasm', 'cpu', ...). */
  backendName: string;
  load(): Promise<void>;
}

/** Options of {@link backendCandidates}. */
export interface CandidateOptions {
  /**
   * Threads for the wasm backend (`setThreadsCount`). tfjs-backend-wasm 4.x runs single-threaded
   * in Node (its WASM_HAS_MULTITHREAD_SUPPORT flag is false there, and forcing it fails to
   * initialize), so the default leaves it alone and a value other than 1 is only logged as ignored.
   */
  wasmThreads?: number;
  log?: (line: string) => void;
}

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
export const TFJS_NODE = '@tensorflow/tfjs-node';
export const TFJS_WASM = '@tensorflow/tfjs-backend-wasm';
export const TFJS_CPU = '@tensorflow/tfjs-backend-cpu';

/** An optional native package: tfjs-node(-gpu) registers the 'tensorflow' backend on import. */
function nativeCandidate(pkg: string): BackendCandidate {
  return {
    package: pkg,
    backendName: 'tensorflow',
    async load() {
      try {
        // A variable specifier, so tsc needs neither the package nor its types.
        const specifier: string = pkg;
        await import(specifier);
      } catch (e) {
        const err = e as { code?: string; message?: string };
        const missing = err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND';
        if (missing && String(err.message).includes(`'${pkg}'`)) {
          throw new Error('not installed (optional peer dependency)');
        }
        throw e;
      }
      if (tf.findBackendFactory('tensorflow') === null) {
        // It imported its own copy of tfjs-core, so it registered with an engine we do not use.
        throw new Error(
          `loaded, but registered no 'tensorflow' backend with this @tensorflow/tfjs; ` +
            `its version must match @tensorflow/tfjs ${tf.version.tfjs}`,
        );
      }
    },
  };
}

function wasmCandidate(opts: CandidateOptions): BackendCandidate {
  return {
    package: TFJS_WASM,
    backendName: 'wasm',
    async load() {
      // In Node it finds its .wasm files beside its JS: no setWasmPaths needed.
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const threads = opts.wasmThreads;
      if (threads === undefined) return;
      if (!Number.isInteger(threads) || threads < 1) {
        throw new Error(`wasmThreads must be an integer >= 1, got ${threads}`);
      }
      wasm.setThreadsCount(threads); // only read when the backend first initializes
      if (threads > 1 && !(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) {
        opts.log?.(`backend: wasmThreads=${threads} ignored: tfjs-backend-wasm has no multithreading in Node`);
      }
    },
  };
}

const cpuCandidate: BackendCandidate = {
  package: TFJS_CPU,
  backendName: 'cpu',
  async load() {}, // registered by @tensorflow/tfjs itself
};

/** The candidates a choice tries, in order of preference. */
export function backendCandidates(choice: BackendChoice, opts: CandidateOptions = {}): BackendCandidate[] {
  switch (choice) {
    case 'auto':
      return [nativeCandidate(TFJS_NODE_GPU), nativeCandidate(TFJS_NODE), wasmCandidate(opts), cpuCandidate];
    case 'tensorflow':
      return [nativeCandidate(TFJS_NODE_GPU), nativeCandidate(TFJS_NODE)];
    case 'wasm':
      return [wasmCandidate(opts)];
    case 'cpu':
      return [cpuCandidate];
    default: {
      const never: never = choice;
      throw new Error(`unknown backend choice '${String(never)}'`);
    }
  }
}
