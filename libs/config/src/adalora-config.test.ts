import test from 'ava';
import { ADALORA_CONFIG_FIELDS, AdaLoraConfigError, finishAdaLoraConfig, parseAdaLoraConfig, parseAdaLoraDraft } from './adalora-config';

const base = { totalStep: 100, targetModules: ['query', 'value'] };

test('fills peft 0.21 defaults', (t) => {
  const cfg = parseAdaLoraConfig(base);
  t.like(cfg, {
    mode: 'adalora',
    initR: 12,
    targetR: 8,
    tinit: 0,
    tfinal: 0,
    deltaT: 1,
    beta1: 0.85,
    beta2: 0.85,
    orthRegWeight: 0.5,
    loraAlpha: 8,
    loraDropout: 0,
    totalStep: 100,
  });
  t.deepEqual(cfg.targetModules, ['query', 'value']);
  t.deepEqual(cfg.modulesToSave, ['classifier', 'score']);
  t.true(Object.isFrozen(cfg) && Object.isFrozen(cfg.targetModules));
});

test('keeps given values and in lora mode targetR defaults to initR', (t) => {
  const cfg = parseAdaLoraConfig({ ...base, initR: 4, targetR: 2, tinit: 3, tfinal: 5, deltaT: 2, loraDropout: 0.1, modulesToSave: [] });
  t.like(cfg, { initR: 4, targetR: 2, tinit: 3, tfinal: 5, deltaT: 2, loraDropout: 0.1 });
  t.deepEqual(cfg.modulesToSave, []);
  t.is(parseAdaLoraConfig({ ...base, mode: 'lora', initR: 4 }).targetR, 4);
});

// One case per rule: [name, raw config, field the error must name, part of the message].
const rules: [string, Record<string, unknown>, string, RegExp][] = [
  ['not an object', null as never, '(root)', /expected an object/],
  ['unknown key', { ...base, init_r: 4 }, 'init_r', /unknown key/],
  ['mode', { ...base, mode: 'qlora' }, 'mode', /'adalora' or 'lora'/],
  ['totalStep required', { targetModules: ['q'] }, 'totalStep', /required/],
  ['totalStep > 0', { ...base, totalStep: 0 }, 'totalStep', /integer >= 1/],
  ['totalStep integer', { ...base, totalStep: 10.5 }, 'totalStep', /integer >= 1/],
  ['initR positive integer', { ...base, initR: 0 }, 'initR', /integer >= 1/],
  ['initR not a string', { ...base, initR: '4' }, 'initR', /integer >= 1/],
  ['targetR positive integer', { ...base, targetR: -1 }, 'targetR', /integer >= 1/],
  ['targetR <= initR', { ...base, initR: 4, targetR: 6 }, 'targetR', /<= initR/],
  ['targetR default > initR', { ...base, initR: 4 }, 'targetR', /the default/],
  ['tinit >= 0', { ...base, tinit: -1 }, 'tinit', /integer >= 0/],
  ['tfinal >= 0', { ...base, tfinal: -2 }, 'tfinal', /integer >= 0/],
  ['deltaT >= 1', { ...base, deltaT: 0 }, 'deltaT', /integer >= 1/],
  ['tinit < totalStep - tfinal', { ...base, tinit: 50, tfinal: 50 }, 'tinit', /< totalStep - tfinal/],
  ['orthRegWeight >= 0', { ...base, orthRegWeight: -0.1 }, 'orthRegWeight', />= 0/],
  ['orthRegWeight finite', { ...base, orthRegWeight: Number.NaN }, 'orthRegWeight', /finite number/],
  ['beta1 in [0,1)', { ...base, beta1: 1 }, 'beta1', /\[0, 1\)/],
  ['beta2 in [0,1)', { ...base, beta2: -0.5 }, 'beta2', /\[0, 1\)/],
  ['loraDropout < 1', { ...base, loraDropout: 1 }, 'loraDropout', /\[0, 1\)/],
  ['loraDropout >= 0', { ...base, loraDropout: -0.1 }, 'loraDropout', /\[0, 1\)/],
  ['loraAlpha > 0', { ...base, loraAlpha: 0 }, 'loraAlpha', /> 0/],
  ['targetModules required', { totalStep: 10 }, 'targetModules', /required/],
  ['targetModules non-empty', { ...base, targetModules: [] }, 'targetModules', /at least one/],
  ['targetModules strings', { ...base, targetModules: ['q', 3] }, 'targetModules', /non-empty strings/],
  ['modulesToSave strings', { ...base, modulesToSave: 'classifier' }, 'modulesToSave', /array of non-empty strings/],
];

for (const [name, raw, field, message] of rules) {
  test(`refuses: ${name}`, (t) => {
    const err = t.throws(() => parseAdaLoraConfig(raw), { instanceOf: AdaLoraConfigError });
    t.is(err?.field, field);
    t.true(err?.message.startsWith(`AdaLoraConfig.${field}:`), err?.message);
    t.regex(err?.message ?? '', message);
  });
}

test('tinit = totalStep - tfinal - 1 is the last valid value', (t) => {
  t.notThrows(() => parseAdaLoraConfig({ ...base, totalStep: 24, tinit: 18, tfinal: 5 }));
  t.throws(() => parseAdaLoraConfig({ ...base, totalStep: 24, tinit: 19, tfinal: 5 }), { instanceOf: AdaLoraConfigError });
});

test('errors carry the field, the rule and the value apart, for callers that word them their own way', (t) => {
  const e = t.throws(() => parseAdaLoraConfig({ ...base, initR: 4, targetR: 6 }), { instanceOf: AdaLoraConfigError });
  t.like(e, { field: 'targetR', rule: 'must be <= initR (4)', value: 6, defaulted: false });
  t.is(e?.message, 'AdaLoraConfig.targetR: must be <= initR (4), got 6');
  const d = t.throws(() => parseAdaLoraConfig({ ...base, initR: 4 }), { instanceOf: AdaLoraConfigError });
  t.like(d, { field: 'targetR', value: 8, defaulted: true });
  t.is(d?.message, 'AdaLoraConfig.targetR: must be <= initR (4), got 8 (the default)');
  t.is(t.throws(() => parseAdaLoraConfig({ targetModules: ['q'] }))?.message, 'AdaLoraConfig.totalStep: is required (an integer >= 1)');
});

test('fieldName names the fields a rule mentions as the caller spells them', (t) => {
  const fieldName = (f: string) => `'cfg.${f.toUpperCase()}'`;
  const e = t.throws(() => parseAdaLoraConfig({ ...base, initR: 4, targetR: 6 }, { fieldName }), { instanceOf: AdaLoraConfigError });
  t.is(e?.rule, "must be <= 'cfg.INITR' (4)");
  t.is(e?.field, 'targetR'); // the error's own field stays the camelCase name: the caller names it
  const s = t.throws(() => parseAdaLoraConfig({ ...base, tinit: 60, tfinal: 40 }, { fieldName }), { instanceOf: AdaLoraConfigError });
  t.is(s?.rule, "must be < 'cfg.TOTALSTEP' - 'cfg.TFINAL' (100 - 40 = 60) so the budget has steps to fall");
});

test('parseAdaLoraDraft: every rule but the schedule without totalStep; finishAdaLoraConfig completes it', (t) => {
  const { totalStep: _, ...noSteps } = base;
  const draft = parseAdaLoraDraft({ ...noSteps, tinit: 50, tfinal: 50 });
  t.is(draft.totalStep, undefined);
  t.throws(() => parseAdaLoraDraft({ ...noSteps, initR: 4, targetR: 6 }), { instanceOf: AdaLoraConfigError, message: /targetR: must be <= initR/ });
  t.throws(() => finishAdaLoraConfig(draft, 100), { instanceOf: AdaLoraConfigError, message: /tinit: must be < totalStep - tfinal \(100 - 50 = 50\)/ });
  const done = finishAdaLoraConfig(draft, 101);
  t.deepEqual(done, parseAdaLoraConfig({ ...noSteps, tinit: 50, tfinal: 50, totalStep: 101 }));
  t.deepEqual(Object.keys(done), ADALORA_CONFIG_FIELDS, 'the field order of a parsed config (resume compares JSON text)');
  t.true(Object.isFrozen(done));
  // a totalStep given wins over the run's steps, and was checked with the rest
  t.is(finishAdaLoraConfig(parseAdaLoraDraft(base), 7).totalStep, 100);
  t.throws(() => parseAdaLoraDraft({ ...base, tinit: 50, tfinal: 50 }), { message: /tinit: must be < totalStep - tfinal/ });
  // null is absent: the run's steps
  t.is(finishAdaLoraConfig(parseAdaLoraDraft({ ...base, totalStep: null }), 7).totalStep, 7);
  t.throws(() => finishAdaLoraConfig(draft, 0), { message: 'AdaLoraConfig.totalStep: must be an integer >= 1, got 0' });
});
