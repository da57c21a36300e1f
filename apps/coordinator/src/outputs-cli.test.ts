import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '@adalora/test-support';

// the short built-in run (16 steps), evaluated and checkpointed every 4 steps
const SHORT = ['--set', 'training.maxSteps=16', '--set', 'training.evalEvery=4', '--set', 'adalora.tinit=2', '--set', 'adalora.tfinal=4', '--set', 'adalora.deltaT=2', '--backend', 'wasm', '--no-progress'];

interface Line {
  readonly kind: string;
  readonly step: number;
  readonly loss?: number;
  readonly from?: string;
}

const lines = (dir: string): Line[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
const checkpoints = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('checkpoint-')).sort();
// step numbers as metrics.jsonl writes them: steps done, 1-based
const STEPS_1_TO_16 = Array.from({ length: 16 }, (_, i) => i + 1);

test.serial('an output folder with a previous run is refused unless --overwrite or --resume; a resume is marked in metrics.jsonl and never repeats a step; saveTotalLimit; best/', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-outputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...extra: string[]) => startCli(['run', '--workers', '1', '-o', dir, ...SHORT, ...extra]).done;

  const first = await run('--set', 'training.checkpointEvery=4', '--set', 'training.saveTotalLimit=2');
  t.is(first.code, 0, first.out.slice(-2000));
  t.deepEqual(checkpoints(dir), ['checkpoint-12', 'checkpoint-8'], 'saveTotalLimit 2: checkpoint-4 deleted');
  t.regex(first.out, /saveTotalLimit 2: deleted .*checkpoint-4/);
  t.true(existsSync(join(dir, 'best', 'adapter', 'adapter_model.safetensors')));
  t.regex(first.out, /best dev pearson so far \(\d\.\d{4} at step \d+\): saved .*best\/adapter/);
  const firstRun = lines(dir);

  // the same command again: refused before anything is written, naming the folder and what is in it
  const metricsBefore = readFileSync(join(dir, 'metrics.jsonl'));
  const refused = await run();
  t.is(refused.code, 1);
  t.true(
    refused.out.includes(`adalora: output folder ${dir} holds a previous run's best/, checkpoint-12/, checkpoint-8/, final/, metrics-evals.csv, metrics-steps.csv, metrics.jsonl, report.html: pass --overwrite to delete them, --resume latest to continue that run, or choose another --output`),
    refused.out.slice(-2000),
  );
  t.notRegex(refused.out, /waiting for|model /, 'refused before the model loaded');
  t.deepEqual(readFileSync(join(dir, 'metrics.jsonl')), metricsBefore);

  // resumed from checkpoint-8 (the run got to 16): steps 9..16 once, the resume point marked, its checkpoint kept whatever saveTotalLimit says
  const resumed = await run('--resume', join(dir, 'checkpoint-8'), '--set', 'training.checkpointEvery=4', '--set', 'training.saveTotalLimit=1');
  t.is(resumed.code, 0, resumed.out.slice(-2000));
  const after = lines(dir);
  const steps = after.filter((l) => l.kind === 'step');
  t.deepEqual(steps.map((l) => l.step), STEPS_1_TO_16, 'each step once, in order');
  t.deepEqual(steps.map((l) => l.loss), firstRun.filter((l) => l.kind === 'step').map((l) => l.loss), 'the continuation is the same run, bit for bit');
  const mark = after.findIndex((l) => l.kind === 'resume');
  t.like(after[mark], { kind: 'resume', step: 8, from: join(dir, 'checkpoint-8') });
  t.is(after.slice(0, mark).filter((l) => l.kind === 'step').at(-1)?.step, 8, 'the mark follows the kept part, up to step 8');
  t.is(after.slice(mark).find((l) => l.kind === 'step')?.step, 9, 'the continuation starts at step 9');
  t.is(after.filter((l) => l.kind === 'resume').length, 1);
  t.deepEqual(after.filter((l) => l.kind === 'eval').map((l) => l.step), [4, 8, 12, 16], 'each evaluation once');
  t.deepEqual(checkpoints(dir), ['checkpoint-12', 'checkpoint-8'], 'saveTotalLimit 1 keeps the newest and the resumed-from checkpoint');

  // --overwrite: the previous run's outputs go, other files stay, the new metrics start afresh
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  const over = await run('--overwrite');
  t.is(over.code, 0, over.out.slice(-2000));
  t.regex(over.out, /--overwrite: deleted the previous run's best\/, checkpoint-12\/, checkpoint-8\/, final\/, metrics-evals\.csv, metrics-steps\.csv, metrics\.jsonl, report\.html in /);
  t.deepEqual(checkpoints(dir), []);
  t.is(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
  const fresh = lines(dir);
  t.false(fresh.some((l) => l.kind === 'resume'));
  t.deepEqual(fresh.filter((l) => l.kind === 'step').map((l) => l.step), STEPS_1_TO_16);
});
