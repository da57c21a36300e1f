import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdaLoraConfig } from '@adalora/config';
import { mulberry32 } from '@adalora/core';
import { injectAdapters, loadQaModel, readPeftAdapterTensors, savePeftAdapter, writeSafetensors, type InjectedAdapters } from '@adalora/models';
import { bertReferenceBatch, fixturePath } from '@adalora/test-support';
import { mergeCommand } from './merge-command';

test.before(async () => {
  await tf.setBackend('wasm');
});

const dir = mkdtempSync(join(tmpdir(), 'adalora-qa-merge-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const adalora = parseAdaLoraConfig({ initR: 3, targetR: 2, totalStep: 10, targetModules: ['query', 'value', 'intermediate.dense'], modulesToSave: ['qa_outputs'] });

// every trainable (A, E, B and qa_outputs) set to seeded values, so the adapter changes the logits
function randomise(injected: InjectedAdapters, seed: number): void {
  const next = mulberry32(seed);
  for (const v of injected.trainables.values()) v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => (next() / 2 ** 32 - 0.5) * 0.4), v.shape));
}

test.serial('`merge` of a QUESTION_ANS adapter: the merged *ForQuestionAnswering checkpoint gives the adapted start/end logits', async (t) => {
  const { model } = await loadQaModel(fixturePath('bert'), { headSeed: 9 }); // a classification checkpoint: qa_outputs made from the seed
  const injected = injectAdapters(model, adalora, 1);
  randomise(injected, 7);
  const adapterDir = join(dir, 'adapter');
  await savePeftAdapter(adapterDir, { injected, config: adalora, rankPattern: null, taskType: 'QUESTION_ANS' });
  const batch = bertReferenceBatch('bert');
  const adapted = model.forward(batch, false);
  const expected = [adapted.startLogits.arraySync(), adapted.endLogits.arraySync()];
  tf.dispose([adapted.startLogits, adapted.endLogits, adapted.lastHiddenState]);
  injected.dispose();
  model.dispose();

  const out = join(dir, 'merged');
  const lines: string[] = [];
  await mergeCommand(fixturePath('bert'), adapterDir, out, (l) => lines.push(l), { overwrite: false });
  t.regex(lines.join('\n'), /and qa_outputs \(question answering\)/);
  t.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures, ['BertForQuestionAnswering']);
  const merged = (await loadQaModel(out)).model; // no seed: qa_outputs must be in the checkpoint
  try {
    const got = merged.forward(batch, false);
    const actual = [got.startLogits.arraySync(), got.endLogits.arraySync()];
    tf.dispose([got.startLogits, got.endLogits, got.lastHiddenState]);
    const worst = Math.max(...actual.flatMap((side, s) => side.flatMap((row, r) => row.map((v, c) => Math.abs(v - expected[s][r][c])))));
    t.true(worst < 1e-5, `max abs error ${worst}`);
    const moved = Math.max(...expected[0].flat().map(Math.abs));
    t.true(moved > 1e-3, 'the logits are not trivially zero');
    t.log(`merged QA logits vs adapter: max abs error ${worst.toExponential(2)}`);
  } finally {
    merged.dispose();
    tf.dispose([batch.inputIds, batch.attentionMask, batch.tokenTypeIds!]);
  }
});

test.serial('`merge` refuses a QUESTION_ANS adapter that holds no qa_outputs', async (t) => {
  const bad = join(dir, 'no-head');
  const { model } = await loadQaModel(fixturePath('bert'), { headSeed: 9 });
  const injected = injectAdapters(model, adalora, 1);
  await savePeftAdapter(bad, { injected, config: adalora, rankPattern: null, taskType: 'QUESTION_ANS' });
  injected.dispose();
  model.dispose();
  // the same adapter with its head tensors dropped, as a file saved without modules_to_save would be
  const tensors = readPeftAdapterTensors(bad);
  for (const name of [...tensors.keys()]) if (name.includes('qa_outputs')) tensors.delete(name);
  writeSafetensors(join(bad, 'adapter_model.safetensors'), tensors);
  const config = JSON.parse(readFileSync(join(bad, 'adapter_config.json'), 'utf8'));
  writeFileSync(join(bad, 'adapter_config.json'), JSON.stringify({ ...config, modules_to_save: null }));
  await t.throwsAsync(mergeCommand(fixturePath('bert'), bad, join(dir, 'x'), () => {}, { overwrite: false }), { message: /task_type QUESTION_ANS but the adapter holds no qa_outputs tensors/ });
});
