import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTER_CONFIG_FILE, loadEncoder, loadPeftAdapter, loadQaModel, mergeAdapters, readPeftAdapterTensors, saveMergedCheckpoint, type TaskModel } from '@adalora/models';

/** Tokenizer files a checkpoint may carry; copied so the merged checkpoint is complete. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

/**
 * Folds a PEFT adapter (AdaLoRA or LoRA, with its head) into its base checkpoint and writes a
 * plain HF checkpoint that needs no adapter code to run. The adapter's `task_type` picks the
 * head: QUESTION_ANS loads the base as `*ForQuestionAnswering` (its `qa_outputs` come from the
 * adapter), anything else as `*ForSequenceClassification`.
 */
export async function mergeCommand(modelDir: string, adapterDir: string, outDir: string, log: (line: string) => void): Promise<void> {
  const qa = adapterTaskType(adapterDir) === 'QUESTION_ANS';
  if (qa && ![...readPeftAdapterTensors(adapterDir).keys()].some((name) => name.endsWith('qa_outputs.weight'))) {
    // the base's own qa_outputs (or a random one) would be merged silently otherwise
    throw new Error(`${join(adapterDir, ADAPTER_CONFIG_FILE)}: task_type QUESTION_ANS but the adapter holds no qa_outputs tensors (modules_to_save must include qa_outputs)`);
  }
  // a fixed seed for a head the base lacks: the adapter's qa_outputs replace it
  const model: TaskModel = qa ? (await loadQaModel(modelDir, { headSeed: 0 })).model : (await loadEncoder(modelDir)).model;
  try {
    const { injected, config, rankPattern } = await loadPeftAdapter(adapterDir, model);
    const kept = rankPattern ? [...rankPattern.values()].reduce((n, p) => n + p.filter(Boolean).length, 0) : injected.adapters.size * config.initR;
    mergeAdapters(model, injected);
    await saveMergedCheckpoint(outDir, model, modelDir);
    for (const f of TOKENIZER_FILES) if (existsSync(join(modelDir, f))) copyFileSync(join(modelDir, f), join(outDir, f));
    log(`merged ${injected.adapters.size} ${config.mode} adapters (${kept} rank-1 triplets in all)${qa ? ' and qa_outputs (question answering)' : ''} into ${outDir}`);
  } finally {
    model.dispose();
  }
}

// adapter_config.json's task_type, or null; a missing or broken file is reported by loadPeftAdapter
function adapterTaskType(adapterDir: string): string | null {
  try {
    const json = JSON.parse(readFileSync(join(adapterDir, ADAPTER_CONFIG_FILE), 'utf8')) as { task_type?: unknown };
    return typeof json.task_type === 'string' ? json.task_type : null;
  } catch {
    return null;
  }
}
