import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { moduleTensorKey } from '@adalora/core';
import { isQaModel, type TaskModel } from './encoder-model';
import type { InjectedAdapters } from './inject-adapters';
import { encodeSafetensors, type SafeTensor } from './safetensors';
import { readFileBytes } from './checkpoint-files';
import { parseJsonObject } from './json-object';
import { readCheckpointTensors } from './load-model';

/**
 * Folds every adapter into its frozen linear (`W += ΔW`, AdaLoRA `ΔW = B·(A⊙E)·s`, LoRA
 * `B·A·s`, as peft's `merge_and_unload`) and then takes the adapters off and frees them
 * (`injected` is disposed). The model afterwards computes the adapted function with plain
 * linears; its head keeps its trained values. Not undoable.
 */
export function mergeAdapters(model: TaskModel, injected: InjectedAdapters): void {
  for (const id of injected.adapters.keys()) {
    if (!model.linears.has(id)) throw new Error(`mergeAdapters: the model has no linear '${id}' (these adapters belong to another model)`);
  }
  for (const [id, adapter] of injected.adapters) {
    const linear = model.linears.get(id)!;
    linear.setWeight(adapter.mergeInto(linear.weight)); // frees the old W and its cached Wᵀ
  }
  injected.dispose();
}

/**
 * Writes `model` as an HF checkpoint (`config.json` + `model.safetensors`) that
 * {@link loadEncoder} (and transformers) read back: the tensors of the checkpoint in
 * `sourceDir` (the base the model was loaded from; single file or shards) under their names
 * there, with every linear's weight and bias and every head tensor replaced by the model's
 * current values (merged weights, trained head). Weights the base lacked and the model created
 * (a new head, BERT's pooler) are added under the model's names. `labels` (the head's class
 * names) are written as `id2label` / `label2id`.
 */
export async function saveMergedCheckpoint(dir: string, model: TaskModel, sourceDir: string, labels: readonly string[] | null = null): Promise<void> {
  const configPath = path.join(sourceDir, 'config.json');
  const config = parseJsonObject(await readFileBytes(configPath), configPath);
  const { tensors } = await readCheckpointTensors(sourceDir);

  // A linear's stored name may lack the model prefix (a bare BertModel checkpoint).
  const storedName = (name: string): string => {
    if (tensors.has(name)) return name;
    const bare = name.slice(name.indexOf('.') + 1);
    return name.includes('.') && tensors.has(bare) ? bare : name;
  };
  for (const [id, linear] of model.linears) {
    tensors.set(storedName(moduleTensorKey(id, 'weight')), snapshot(linear.weight));
    if (linear.bias) tensors.set(storedName(moduleTensorKey(id, 'bias')), snapshot(linear.bias));
  }
  for (const [name, v] of model.headParams) tensors.set(name, snapshot(v));

  // a QA checkpoint says so, as HF's save_pretrained of *ForQuestionAnswering would
  if (isQaModel(model)) config.architectures = [`${architecturePrefix(String(config.model_type))}ForQuestionAnswering`];
  // the classes by name when the adapter recorded them; else num_labels as the model has it (e.g. a
  // base checkpoint given a new 3-class head), as transformers names them
  else if (labels !== null || labelCount(config) !== model.numLabels) {
    if (labels !== null && labels.length !== model.numLabels) throw new Error(`saveMergedCheckpoint: ${labels.length} label names for a head of ${model.numLabels} outputs`);
    const id2label = Object.fromEntries(Array.from({ length: model.numLabels }, (_, i) => [String(i), labels?.[i] ?? `LABEL_${i}`]));
    config.id2label = id2label;
    config.label2id = Object.fromEntries(Object.entries(id2label).map(([i, l]) => [l, Number(i)]));
    delete config.num_labels;
  }
  await mkdir(dir, { recursive: true });
  await writeAtomically(path.join(dir, 'config.json'), new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`));
  await writeAtomically(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors));
}

// HF's class-name prefix of a model_type
function architecturePrefix(modelType: string): string {
  return ({ bert: 'Bert', roberta: 'Roberta', 'deberta-v2': 'DebertaV2' } as Record<string, string>)[modelType] ?? modelType;
}

function labelCount(config: Record<string, unknown>): number {
  if (typeof config.num_labels === 'number') return config.num_labels;
  const id2label = config.id2label;
  return id2label && typeof id2label === 'object' ? Object.keys(id2label).length : 2;
}


function snapshot(t: { readonly shape: readonly number[]; dataSync(): ArrayLike<number> }): SafeTensor {
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}


async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}
