import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from '@adalora/backend';
import type { BackendChoice } from '@adalora/config';
import { runCompareArm, type CompareMethod, type CompareTraining } from './compare-run';
import { writeCompareReport, type CompareRow } from './compare-report';
import { createTeacherCompareTask, createTextCompareTask, type CompareTask } from './compare-tasks';

export interface CompareOptions {
  readonly output: string;
  readonly tasks: readonly ('teacher' | 'text')[];
  /** LoRA ranks; AdaLoRA gets target_r = budget, init_r = ⌈1.5 × budget⌉ */
  readonly budgets: readonly number[];
  readonly seeds: number;
  readonly steps: number;
  readonly train: number;
  readonly dev: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly workers: number;
  readonly backend: BackendChoice;
  readonly tokenizer: string;
  /** the seed of both tasks' teachers and data (runs vary the training seed) */
  readonly taskSeed: number;
}

/** AdaLoRA's starting rank for a budget: 1.5 × the final rank, as the paper sets init_r. */
export const initRankFor = (budget: number) => Math.ceil(1.5 * budget);

/**
 * `adalora compare`: makes the tasks, trains LoRA and AdaLoRA at each budget with each seed
 * (the methods interleaved, so drift in the machine's speed hits both alike), and writes the
 * table and the plot. Resolves with the rows and the written files.
 */
export async function compareCommand(o: CompareOptions, log: (line: string) => void): Promise<{ rows: CompareRow[]; files: string[]; markdown: string }> {
  if (o.tasks.includes('text') && !existsSync(o.tokenizer)) throw new Error(`compare: the text task's tokenizer ${o.tokenizer} does not exist (give --tokenizer <tokenizer.json or its folder>)`);
  const backend = await loadBackend(o.backend, { log });
  mkdirSync(o.output, { recursive: true });
  const started = performance.now();
  const tasks: CompareTask[] = [];
  for (const name of o.tasks) {
    const dir = join(o.output, 'tasks', name);
    const size = { train: o.train, dev: o.dev };
    tasks.push(name === 'teacher' ? await createTeacherCompareTask(dir, o.taskSeed, size) : await createTextCompareTask(dir, o.taskSeed, size, o.tokenizer));
    log(`task ${name} written to ${dir} (true ranks: ${[...tasks.at(-1)!.trueRanks.values()].join(' ')})`);
  }
  const training: CompareTraining = { steps: o.steps, batchSize: o.batchSize, lr: o.lr, workers: o.workers, backend: backend.name as BackendChoice };
  const rows: CompareRow[] = [];
  const total = tasks.length * o.budgets.length * o.seeds * 2;
  for (const task of tasks) {
    for (const budget of o.budgets) {
      for (let s = 0; s < o.seeds; s++) {
        const seed = 1 + s;
        const methods: CompareMethod[] = [{ mode: 'lora', r: budget }, { mode: 'adalora', initR: initRankFor(budget), targetR: budget }];
        for (const method of methods) {
          const outputDir = join(o.output, 'runs', `${task.name}-${method.mode}-b${budget}-seed${seed}`);
          const r = await runCompareArm(task, method, seed, training, outputDir);
          const initR = method.mode === 'lora' ? method.r : method.initR;
          rows.push({ task: task.name, method: method.mode, budget, initR, seed, devMse: r.devLoss, pearson: r.pearson, abValues: r.abValues, eValues: r.eValues, keptRanks: Object.fromEntries(r.keptRanks), seconds: r.seconds });
          log(`[${rows.length}/${total}] ${task.name} ${method.mode} budget ${budget} seed ${seed}: dev MSE ${r.devLoss.toFixed(4)}, Pearson ${r.pearson.toFixed(4)}, kept ranks ${[...r.keptRanks.values()].join(' ')} (${r.seconds.toFixed(1)} s)`);
        }
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const settings = { ...o, backend: backend.name, adalora: 'init_r = ceil(1.5 × budget), target_r = budget, tinit/tfinal = steps/6 and steps/3, orth_reg_weight 0.3', loraAlpha: '2 × init_r for both', seconds };
  const { files, markdown } = writeCompareReport(o.output, rows, settings);
  log(`compare: ${rows.length} runs in ${seconds.toFixed(0)} s; wrote ${files.join(', ')}`);
  return { rows, files, markdown };
}
