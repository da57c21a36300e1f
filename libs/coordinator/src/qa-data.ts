import type { DataConfig, QaDataConfig } from '@adalora/config';
import {
  detectSquadVersion,
  loadSquad,
  prepareTrainFeatures,
  prepareValidationFeatures,
  qaFeatureDataset,
  type Dataset,
  type QaEvalFeature,
  type SquadExample,
  type TextTokenizer,
} from '@adalora/data';

/** The dev split of a QA run: what post-processing needs beside the features' logits. */
export interface QaDev {
  /** the questions, in file order (gold answers for EM/F1) */
  readonly examples: readonly SquadExample[];
  /** one per row of the dev Dataset, same order: example id and offsets of each window */
  readonly features: readonly QaEvalFeature[];
  /** SQuAD v2.0: null answers allowed, HasAns/NoAns scores */
  readonly version2: boolean;
  readonly settings: QaDataConfig;
}

/** A QA run's data: both splits as features the trainer batches, and the dev split's questions. */
export interface QaData {
  readonly train: Dataset;
  readonly dev: Dataset | null;
  readonly qaDev: QaDev | null;
  readonly version: '1.1' | '2.0';
  /** questions per split, for the log */
  readonly questions: { readonly train: number; readonly dev: number };
}

/**
 * Reads SQuAD files and windows them as HF's run_qa.py: every window of the train split becomes
 * a row labelled with its answer span; the dev split's windows are rows too (labelled the same
 * way, for the dev loss) with their offsets kept for post-processing. Windows are padded to
 * `maxLength` (run_qa.py's `pad_to_max_length`), so every batch has the same width.
 */
export function loadQaData(data: DataConfig, tokenizer: TextTokenizer): QaData {
  const settings = data.qa!;
  const read = (file: string) => readSquadFile(file, data);
  const trainExamples = read(data.train!);
  const devExamples = data.dev ? read(data.dev) : null;
  const version = settings.squadVersion === 'auto' ? detectSquadVersion(trainExamples, devExamples ?? []) : settings.squadVersion;
  if (version === '1.1') {
    const split = [[data.train!, trainExamples], [data.dev, devExamples ?? []]] as const;
    for (const [file, examples] of split) {
      const q = examples.find((e) => e.answers.text.length === 0);
      if (q) throw new Error(`${file}: question '${q.id}' has no answer, which SQuAD v1.1 does not allow; set data.squadVersion to '2.0' (or 'auto')`);
    }
  }
  const train = qaFeatureDataset(prepareTrainFeatures(trainExamples, tokenizer, { maxLength: data.maxLength, docStride: settings.docStride }));
  const evaluated = devExamples ? qaEvalSplit(devExamples, tokenizer, { maxLength: data.maxLength, settings, version2: version === '2.0', file: data.dev! }) : null;
  const dev = evaluated?.dev ?? null;
  const qaDev = evaluated?.qaDev ?? null;
  return { train, dev, qaDev, version, questions: { train: trainExamples.length, dev: devExamples?.length ?? 0 } };
}

/** How {@link qaEvalSplit} windows and scores a split. */
export interface QaEvalSplitOptions {
  readonly maxLength: number;
  readonly settings: QaDataConfig;
  /** SQuAD v2.0 post-processing: null answers allowed, HasAns/NoAns scores */
  readonly version2: boolean;
  /** for errors */
  readonly file: string;
}

/**
 * Questions to evaluate, windowed as the dev split of a run: every window a row labelled with
 * its answer span (for the loss), with its offsets kept for post-processing. The coordinator's
 * dev evaluation and `adalora predict` both read their questions through here.
 */
export function qaEvalSplit(examples: readonly SquadExample[], tokenizer: TextTokenizer, o: QaEvalSplitOptions): { dev: Dataset; qaDev: QaDev } {
  const opts = { maxLength: o.maxLength, docStride: o.settings.docStride };
  const labelled = prepareTrainFeatures(examples, tokenizer, opts);
  const features = prepareValidationFeatures(examples, tokenizer, opts);
  // both are cut by the same windowing: the i-th of each is the same window
  if (labelled.length !== features.length) throw new Error(`unreachable: ${labelled.length} labelled and ${features.length} evaluation windows of ${o.file}`);
  return { dev: qaFeatureDataset(labelled), qaDev: { examples, features, version2: o.version2, settings: o.settings } };
}

/** A SQuAD file's questions: HF datasets' JSONL when `data.format` is jsonl or the name ends in .jsonl, else the official JSON. */
export function readSquadFile(file: string, data: Pick<DataConfig, 'format'>): SquadExample[] {
  return loadSquad(file, data.format === 'jsonl' || file.endsWith('.jsonl') ? 'jsonl' : 'squad-json');
}
