/**
 * Adapter sets of real models, by their modules' shapes only, for measuring the coordinator
 * without a model (synthetic jobs and workers): every linear of every encoder layer adapted
 * (query, key, value, attention output, intermediate, output), AdaLoRA at init_r 12.
 */
export interface AdapterPreset {
  readonly name: SyntheticPresetName;
  readonly description: string;
  readonly layers: number;
  readonly hidden: number;
  readonly intermediate: number;
  /** module path prefix of layer i's linears, as in peft (`bert.encoder.layer.<i>.`) */
  readonly prefix: string;
  /** the attention projections' names under `attention.self.` */
  readonly attention: readonly [string, string, string];
  readonly initR: number;
}

export type SyntheticPresetName = 'bert-base-r12' | 'deberta-v3-base-r12' | 'bert-large-r12' | 'tiny-r4';

export const SYNTHETIC_PRESETS: Readonly<Record<SyntheticPresetName, AdapterPreset>> = {
  'bert-base-r12': { name: 'bert-base-r12', description: 'BERT-base (12 layers, 768 / 3072), all 6 linears per layer, r 12', layers: 12, hidden: 768, intermediate: 3072, prefix: 'bert.encoder.layer.', attention: ['query', 'key', 'value'], initR: 12 },
  'deberta-v3-base-r12': { name: 'deberta-v3-base-r12', description: 'DeBERTa-v3-base (12 layers, 768 / 3072), all 6 linears per layer, r 12', layers: 12, hidden: 768, intermediate: 3072, prefix: 'deberta.encoder.layer.', attention: ['query_proj', 'key_proj', 'value_proj'], initR: 12 },
  'bert-large-r12': { name: 'bert-large-r12', description: 'BERT-large (24 layers, 1024 / 4096), all 6 linears per layer, r 12', layers: 24, hidden: 1024, intermediate: 4096, prefix: 'bert.encoder.layer.', attention: ['query', 'key', 'value'], initR: 12 },
  // small enough for tests and quick checks
  'tiny-r4': { name: 'tiny-r4', description: 'a tiny BERT (2 layers, 32 / 64), all 6 linears per layer, r 4', layers: 2, hidden: 32, intermediate: 64, prefix: 'bert.encoder.layer.', attention: ['query', 'key', 'value'], initR: 4 },
};

/** The preset of this name; the error lists the known ones. */
export function adapterPreset(name: string): AdapterPreset {
  const p = (SYNTHETIC_PRESETS as Record<string, AdapterPreset>)[name];
  if (!p) throw new Error(`unknown adapter preset '${name}' (known: ${Object.keys(SYNTHETIC_PRESETS).join(', ')})`);
  return p;
}

/** One adapted linear: its module path and W's [out, in]. */
export interface PresetModule {
  readonly id: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
}

/** The adapted modules of a preset, in model order. */
export function presetModules(p: AdapterPreset): PresetModule[] {
  const out: PresetModule[] = [];
  const { hidden: H, intermediate: I } = p;
  for (let i = 0; i < p.layers; i++) {
    const l = `${p.prefix}${i}.`;
    for (const a of p.attention) out.push({ id: `${l}attention.self.${a}`, inFeatures: H, outFeatures: H });
    out.push({ id: `${l}attention.output.dense`, inFeatures: H, outFeatures: H });
    out.push({ id: `${l}intermediate.dense`, inFeatures: H, outFeatures: I });
    out.push({ id: `${l}output.dense`, inFeatures: I, outFeatures: H });
  }
  return out;
}

/** Trainable values of a preset's AdaLoRA set: per module A [r, in], E [r, 1], B [out, r]. */
export function presetValueCount(p: AdapterPreset): number {
  return presetModules(p).reduce((n, m) => n + p.initR * (m.inFeatures + m.outFeatures + 1), 0);
}

/** The target_modules that select exactly a preset's linears. */
export function presetTargetModules(p: AdapterPreset): string[] {
  return [...p.attention, 'attention.output.dense', 'intermediate.dense', 'output.dense'];
}
