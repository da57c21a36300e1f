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
  const read = (file: string) => loadSquad(file, data.format === 'jsonl' || file.endsWith('.jsonl') ? 'jsonl' : 'squad-json');
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
  const opts = { maxLength: data.maxLength, docStride: settings.docStride };
  const train = qaFeatureDataset(prepareTrainFeatures(trainExamples, tokenizer, opts));
  let dev: Dataset | null = null;
  let qaDev: QaDev | null = null;
  if (devExamples) {
    const labelled = prepareTrainFeatures(devExamples, tokenizer, opts);
    const features = prepareValidationFeatures(devExamples, tokenizer, opts);
    // both are cut by the same windowing: the i-th of each is the same window
    if (labelled.length !== features.length) throw new Error(`unreachable: ${labelled.length} labelled and ${features.length} evaluation windows of ${data.dev}`);
    dev = qaFeatureDataset(labelled);
    qaDev = { examples: devExamples, features, version2: version === '2.0', settings };
  }
  return { train, dev, qaDev, version, questions: { train: trainExamples.length, dev: devExamples?.length ?? 0 } };
}
