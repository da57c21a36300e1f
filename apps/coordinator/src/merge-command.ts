import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadEncoder, loadPeftAdapter, mergeAdapters, saveMergedCheckpoint } from '@adalora/models';

/** Tokenizer files a checkpoint may carry; copied so the merged checkpoint is complete. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];

/**
 * Folds a PEFT adapter (AdaLoRA or LoRA, with its head) into its base checkpoint and writes a
 * plain HF checkpoint that needs no adapter code to run.
 */
export async function mergeCommand(modelDir: string, adapterDir: string, outDir: string, log: (line: string) => void): Promise<void> {
  const { model } = await loadEncoder(modelDir);
  try {
    const { injected, config, rankPattern } = await loadPeftAdapter(adapterDir, model);
    const kept = rankPattern ? [...rankPattern.values()].reduce((n, p) => n + p.filter(Boolean).length, 0) : injected.adapters.size * config.initR;
    mergeAdapters(model, injected);
    await saveMergedCheckpoint(outDir, model, modelDir);
    for (const f of TOKENIZER_FILES) if (existsSync(join(modelDir, f))) copyFileSync(join(modelDir, f), join(outDir, f));
    log(`merged ${injected.adapters.size} ${config.mode} adapters (${kept} rank-1 triplets in all) into ${outDir}`);
  } finally {
    model.dispose();
  }
}
