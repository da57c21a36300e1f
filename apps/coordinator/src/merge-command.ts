import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTER_CONFIG_FILE, loadBaseForAdapter, loadEncoder, loadPeftAdapter, loadQaModel, mergeAdapters, readPeftAdapterTensors, saveMergedCheckpoint, type AdapterBase, type TaskModel } from '@adalora/models';
import { adapterTaskType } from './adapter-task-type';

/** Tokenizer files a checkpoint may carry (WordPiece, BPE, SentencePiece); copied so the merged checkpoint is complete. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'spm.model',
  'sentencepiece.bpe.model',
];

export interface MergeOptions {
  /** Write into an output folder that already holds files (they are replaced). */
  readonly overwrite: boolean;
  /** Where the tokenizer files are when not beside the base weights (the run's `tokenizer`). */
  readonly tokenizerDir?: string;
}

/** Refuses an output folder that exists and holds files, unless overwriting was asked for. */
export function checkOutputFolder(outDir: string, overwrite: boolean, what: string): void {
  if (!overwrite && existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new Error(`${what} ${outDir} already exists and is not empty: choose another folder, or pass --overwrite to replace its files`);
  }
}

/**
 * Folds a PEFT adapter (AdaLoRA or LoRA, with its head) into its base checkpoint and writes a
 * plain HF checkpoint that needs no adapter code to run: config.json (with the adapter's label
 * names as id2label / label2id), model.safetensors and the base's tokenizer files. The
 * adapter's `task_type` picks the head: QUESTION_ANS loads the base as `*ForQuestionAnswering`
 * (its `qa_outputs` come from the adapter), anything else as `*ForSequenceClassification`. An
 * adapter recorded as trained on another base (adalora_base.json) is refused.
 */
export async function mergeCommand(modelDir: string, adapterDir: string, outDir: string, log: (line: string) => void, options: MergeOptions): Promise<void> {
  checkOutputFolder(outDir, options.overwrite, 'the output folder');
  const qa = adapterTaskType(adapterDir) === 'QUESTION_ANS';
  if (qa && ![...readPeftAdapterTensors(adapterDir).keys()].some((name) => name.endsWith('qa_outputs.weight'))) {
    // the base's own qa_outputs (or a random one) would be merged silently otherwise
    throw new Error(`${join(adapterDir, ADAPTER_CONFIG_FILE)}: task_type QUESTION_ANS but the adapter holds no qa_outputs tensors (modules_to_save must include qa_outputs)`);
  }
  // a fixed seed for a head the base lacks: the adapter's qa_outputs replace it
  const load = (recorded: AdapterBase | null): Promise<{ model: TaskModel; hash: string }> =>
    qa ? loadQaModel(modelDir, { headSeed: 0 }) : loadEncoder(modelDir, recorded ? { numLabels: recorded.numLabels } : {});
  const { model, recorded: base } = await loadBaseForAdapter(modelDir, adapterDir, load, log);
  try {
    const { injected, config, rankPattern } = await loadPeftAdapter(adapterDir, model);
    const kept = rankPattern ? [...rankPattern.values()].reduce((n, p) => n + p.filter(Boolean).length, 0) : injected.adapters.size * config.initR;
    mergeAdapters(model, injected);
    await saveMergedCheckpoint(outDir, model, modelDir, qa ? null : (base?.labels ?? null));
    const from = options.tokenizerDir ?? modelDir;
    const copied = TOKENIZER_FILES.filter((f) => existsSync(join(from, f)));
    for (const f of copied) copyFileSync(join(from, f), join(outDir, f));
    log(`merged ${injected.adapters.size} ${config.mode} adapters (${kept} rank-1 triplets in all)${qa ? ' and qa_outputs (question answering)' : ''} into ${outDir}${copied.length ? `; tokenizer files from ${from}: ${copied.join(', ')}` : `; no tokenizer files in ${from} to copy`}`);
  } finally {
    model.dispose();
  }
}
