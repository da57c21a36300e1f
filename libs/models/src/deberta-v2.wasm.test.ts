import test from 'ava';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { debertaGradientCheck, debertaReferenceBatch, loadDebertaFixtureModel, maxAbsDiff, readDebertaReference, tensorCountsOverForwards } from '@adalora/test-support';

// The wasm backend has its own kernels and lacks some gradients (e.g. gather's), so the
// parity, gradient and memory checks of deberta-v2.test.ts run here on wasm too.
test.before(async () => {
  await tf.setBackend('wasm');
});

const ref = readDebertaReference();

test.serial('wasm: reproduces HF last_hidden_state (1e-4) and logits (1e-5)', (t) => {
  t.is(tf.getBackend(), 'wasm');
  const model = loadDebertaFixtureModel();
  const batch = debertaReferenceBatch(ref);
  const out = model.forward(batch, false);
  const hidden = maxAbsDiff(out.lastHiddenState, ref.last_hidden_state);
  const logits = maxAbsDiff(out.logits, ref.logits);
  t.log(`wasm: max |Δ| last_hidden_state ${hidden.toExponential(2)}, logits ${logits.toExponential(2)}`);
  t.true(hidden <= 1e-4, `last_hidden_state off by ${hidden}`);
  t.true(logits <= 1e-5, `logits off by ${logits}`);
  tf.dispose([out.lastHiddenState, out.logits, batch.inputIds, batch.attentionMask]);
  model.dispose();
});

test.serial('wasm: gradients flow through every op and match finite differences; memory stays flat', (t) => {
  const model = loadDebertaFixtureModel();
  const batch = debertaReferenceBatch(ref);
  const { worstRelError, leakedTensors, gradNorm } = debertaGradientCheck(model, batch);
  t.log(`wasm: worst relative error of directional derivatives ${worstRelError.toExponential(2)}`);
  t.true(gradNorm > 0);
  t.true(worstRelError < 2e-2, `relative error ${worstRelError}`);
  t.is(leakedTensors, 0);
  const counts = tensorCountsOverForwards(model, batch, 3);
  t.deepEqual(counts, [counts[0], counts[0], counts[0]]);
  tf.dispose([batch.inputIds, batch.attentionMask]);
  model.dispose();
});
