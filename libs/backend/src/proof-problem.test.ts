import test from 'ava';
import { PARAM_NAMES, erf64, initialParams, referenceGrads, referenceLoss, sgdStep, type ProofParams } from './proof-problem';

// erf values from Abramowitz & Stegun table 7.1 / mpmath, 16 digits.
const ERF: [number, number][] = [
  [0, 0],
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [2, 0.9953222650189527],
  [2.5, 0.999593047982555],
  [3, 0.9999779095030014],
  [4, 0.9999999845827421],
];

test('erf64 matches tabulated values to 1e-14, and is odd', (t) => {
  for (const [x, want] of ERF) {
    t.true(Math.abs(erf64(x) - want) < 1e-14, `erf(${x}) = ${erf64(x)}, expected ${want}`);
    t.is(erf64(-x), -erf64(x));
  }
});

test('erf64 is continuous where it switches from series to continued fraction', (t) => {
  const below = erf64(2.5 - 1e-12);
  const above = erf64(2.5);
  t.true(Math.abs(above - below) < 1e-14);
});

test('reference gradients agree with the directional derivative along an arbitrary direction', (t) => {
  const p = initialParams();
  const g = referenceGrads(p);
  // d: a fixed direction, unrelated to the entry-by-entry differences referenceGrads takes.
  const d: ProofParams = {
    W0: p.W0.map((r) => r.map((_, j) => Math.cos(j))),
    W1: p.W1.map((r, i) => r.map((_, j) => (i - j) / 4)),
    W2: p.W2.map((r, i) => r.map(() => (i % 2) - 0.5)),
  };
  const along = (eps: number): number => {
    const q = {} as ProofParams;
    for (const k of PARAM_NAMES) q[k] = p[k].map((r, i) => r.map((v, j) => v + eps * d[k][i][j]));
    return referenceLoss(q);
  };
  const directional = (along(1e-5) - along(-1e-5)) / 2e-5;
  const dot = PARAM_NAMES.reduce((s, k) => s + g[k].flat().reduce((a, v, i) => a + v * d[k].flat()[i], 0), 0);
  t.true(Math.abs(dot) > 1e-3, 'the direction must not be orthogonal to the gradient');
  t.true(Math.abs(directional - dot) < 1e-7 * Math.max(1, Math.abs(dot)), `directional ${directional} vs g·d ${dot}`);
});

test('one SGD step of LR lowers the reference loss', (t) => {
  const p = initialParams();
  t.true(referenceLoss(sgdStep(p, referenceGrads(p))) < referenceLoss(p) - 0.01);
});
