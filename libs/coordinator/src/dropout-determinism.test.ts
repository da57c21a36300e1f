import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { authNonce, coordinatorMessageReader, FrameWriter } from '@adalora/protocol';
import { mergeConfig, RANK_RECOVERY_DEFAULTS } from '@adalora/config';
import { runLocalCluster, type LocalClusterOptions } from '@adalora/test-support';
import { createRankRecoveryTask, type RankRecoveryTask } from '@adalora/training';
import { createWorkerSession } from '@adalora/worker';

// The built-in task's model and data, with dropout 0.1 everywhere a real checkpoint has it:
// embeddings, attention probabilities and hidden outputs (config.json) and the adapters' input
// (lora_dropout). Six steps of 8 micro-batches are enough to see any worker-dependent mask.
let dir: string;
let task: RankRecoveryTask;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adalora-dropout-run-'));
  task = await createRankRecoveryTask(join(dir, 'task'), 1234, { train: 256, dev: 32 });
  const configFile = join(task.modelDir, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  writeFileSync(configFile, JSON.stringify({ ...config, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }));
});

test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Step losses of a run (its output stays in `dir` until the end, for a resume). */
async function losses(o: Omit<LocalClusterOptions, 'config'>, over: Record<string, unknown> = {}, out = mkdtempSync(join(dir, 'out-'))): Promise<number[]> {
  const base = mergeConfig(RANK_RECOVERY_DEFAULTS, {
    model: task.modelDir,
    data: { train: task.trainFile, dev: task.devFile },
    outputDir: out,
    training: { maxSteps: 6, evalEvery: 0, batchSize: 32, microBatch: 4 },
    adalora: { tinit: 1, tfinal: 2, deltaT: 1, lora_dropout: 0.1 },
    cluster: { backend: 'wasm' },
  });
  const config = mergeConfig(base, over) as Record<string, unknown>;
  const { reports } = await runLocalCluster({ ...o, config });
  return reports.map((r) => r.loss);
}

/** A real worker that dies (drops its socket, no reply) when handed its share of step `dieAt`. */
function mortalWorker(port: number, dieAt: number): void {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  // a promise: the session loads tfjs
  const session = createWorkerSession({ workerId: 'mortal', backend: 'wasm', log: () => {} });
  const reader = coordinatorMessageReader();
  const writer = new FrameWriter();
  let queue = Promise.resolve();
  ws.on('message', (data: Buffer) => {
    queue = queue.then(async () => {
      const msg = reader.read(data);
      if (!msg || ws.readyState !== WebSocket.OPEN) return;
      // the handshake of a coordinator without a secret: any proof is taken
      if (msg.type === 'challenge') return writer.encode({ ...(await session).hello(), nonce: authNonce(), proof: new Uint8Array(32) }).forEach((f) => ws.send(f));
      if (msg.type === 'authenticated') return;
      if (msg.type === 'compute' && msg.step === dieAt) return ws.terminate();
      for (const reply of await (await session).handle(msg)) writer.encode(reply).forEach((f) => ws.send(f));
    });
  });
  ws.on('error', () => {});
  ws.on('close', () => void session.then((s) => s.dispose()));
}

test.serial('with dropout on, 1 and 3 workers give the same losses, bit for bit, and so do a run that loses a worker and a resumed run', async (t) => {
  const cleanOut = mkdtempSync(join(dir, 'clean-'));
  const one = await losses({ workers: 1 }, { training: { checkpointEvery: 3 } }, cleanOut);
  t.is(one.length, 6);
  t.deepEqual(await losses({ workers: 3 }), one, '3 workers');
  const log: string[] = [];
  const interrupted = await losses({ workers: 2, minWorkers: 3, log: (l) => log.push(l), onListening: (port) => mortalWorker(port, 2) });
  t.true(log.some((l) => /step 2: a share of \d+ micro-batch\(es\) failed/.test(l)), 'the mortal worker died holding a share of step 2');
  t.deepEqual(interrupted, one, 'a worker lost mid-run');
  t.deepEqual(await losses({ workers: 2 }, { resume: join(cleanOut, 'checkpoint-3') }), one.slice(3), 'resumed at step 3 on 2 workers');
});
