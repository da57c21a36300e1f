import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MeasureRequest, MeasurementSource } from './measurement-source';
import type { Measurement } from './scale-table';
import { readRunSteps } from './step-record';

/** The CLI every measured run is started with, as a user would start it. */
const CLI = fileURLToPath(new URL('../../../../bin/adalora.mjs', import.meta.url));

export interface RunMeasurementOptions {
  /** 'local': `adalora run -w N` starts N worker processes on this machine; 'external': `adalora coordinator --min-workers N` waits for N workers started elsewhere */
  readonly workers: 'local' | 'external';
  readonly configFile?: string;
  /** `--set` overrides of every run (the number of steps is added per run) */
  readonly sets: readonly string[];
  /** flags given to every run as they are, e.g. --worker-backend wasm, --port 7070 */
  readonly runFlags: readonly string[];
  /** each run writes to `<runsDir>/workers-<N>` (emptied first: metrics.jsonl is appended to) */
  readonly runsDir: string;
  readonly log: (line: string) => void;
}

/**
 * Measures with real workers: one ordinary training run per worker count, cut to the warm-up
 * plus the measured steps (`training.maxSteps`), read back from the run's own metrics.jsonl.
 */
export class RunMeasurement implements MeasurementSource {
  private child: ChildProcess | null = null;

  constructor(private readonly o: RunMeasurementOptions) {}

  get description(): string {
    return this.o.workers === 'local' ? 'local workers (child processes)' : 'external workers (started by the user)';
  }

  async measure(r: MeasureRequest): Promise<Measurement> {
    const dir = join(this.o.runsDir, `workers-${r.workers}`);
    rmSync(dir, { recursive: true, force: true });
    const total = r.warmupSteps + r.steps;
    const args = [
      this.o.workers === 'local' ? 'run' : 'coordinator',
      ...(this.o.configFile !== undefined ? ['-c', this.o.configFile] : []),
      ...[...this.o.sets, `training.maxSteps=${total}`].flatMap((s) => ['-s', s]),
      ...(this.o.workers === 'local' ? ['--workers', String(r.workers)] : ['--min-workers', String(r.workers)]),
      '-o',
      dir,
      '--no-progress',
      ...this.o.runFlags,
    ];
    if (this.o.workers === 'external') this.o.log(`waiting for ${r.workers} worker(s): start them with \`adalora worker --coordinator ws://HOST:PORT\` (they exit when the run ends)`);
    const { code, tail } = await this.runToEnd(args, `[${r.workers}w] `);
    if (code !== 0) throw new Error(`the run with ${r.workers} worker(s) failed (exit ${code}); its last lines:\n${tail.join('\n')}`);
    const run = readRunSteps(join(dir, 'metrics.jsonl'));
    if (run.records.length < total) throw new Error(`the run with ${r.workers} worker(s) wrote ${run.records.length} step lines to ${dir}/metrics.jsonl, expected ${total}`);
    return { workers: r.workers, steps: run.records.slice(r.warmupSteps, total), workersSeen: run.workers.slice(r.warmupSteps, total) };
  }

  stop(): void {
    // the run saves a checkpoint and stops its workers, as on Ctrl-C
    this.child?.kill('SIGTERM');
  }

  private runToEnd(args: readonly string[], prefix: string): Promise<{ code: number | null; tail: string[] }> {
    return new Promise((resolve, reject) => {
      // its own process group: a Ctrl-C in the terminal reaches only `scale`, which stops the run
      // with one SIGTERM (a second signal would make the run exit at once, without stopping its workers)
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.child = child;
      const tail: string[] = [];
      const line = (l: string) => {
        if (!l.trim()) return;
        this.o.log(prefix + l);
        tail.push(l);
        if (tail.length > 20) tail.shift();
      };
      // a chunk may end inside a line: keep the rest until its end comes
      const forwarder = () => {
        let partial = '';
        return {
          data: (chunk: Buffer) => {
            const lines = (partial + chunk.toString()).split('\n');
            partial = lines.pop() ?? '';
            lines.forEach(line);
          },
          end: () => line(partial),
        };
      };
      const out = forwarder();
      const err = forwarder();
      child.stdout.on('data', out.data);
      child.stderr.on('data', err.data);
      child.on('error', reject);
      child.on('close', (code) => {
        out.end();
        err.end();
        this.child = null;
        resolve({ code, tail });
      });
    });
  }
}
