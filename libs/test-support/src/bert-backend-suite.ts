// The checks every backend must pass on the BERT and RoBERTa fixtures, registered by
// libs/models' bert.test.ts (cpu) and bert.wasm.test.ts (wasm), each in its own process.
// ava is a type-only import: the test file passes its `test`, since importing ava outside
// the ava CLI ends the process (and tools import this lib too).
import type { TestFn } from 'ava';
import * as tf from '@tensorflow/tfjs';
import { loadEncoder, sequenceClassificationLoss, type EncoderModel } from '@adalora/models';
import { disposeEncoderInputs } from '@adalora/training';
import { bertReferenceBatch, maxAbsError, readBertReference } from './bert-fixtures';
import { fixturePath } from './fixture-paths';

const MODEL_TYPES = ['bert', 'roberta'] as const;

/** Registers the suite on `test` (the test file's ava `test`) for one backend. */
export function registerBackendSuite(test: TestFn, backend: 'cpu' | 'wasm'): void {
  test.before(async () => {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  });

  for (const modelType of MODEL_TYPES) {
    test.serial(`${modelType} on ${backend}: last_hidden_state and logits match HF 5.17`, async (t) => {
      const { model } = await loadEncoder(fixturePath(modelType));
      const ref = readBertReference(modelType);
      const batch = bertReferenceBatch(modelType, ref);
      const out = model.forward(batch, false);
      t.deepEqual(out.lastHiddenState.shape, [4, 12, 32]);
      t.deepEqual(out.logits.shape, [4, 3]);
      const hiddenErr = maxAbsError(out.lastHiddenState, ref.last_hidden_state);
      const logitsErr = maxAbsError(out.logits, ref.logits);
      t.log(`${modelType}/${backend}: max |Δ| last_hidden_state ${hiddenErr.toExponential(2)}, logits ${logitsErr.toExponential(2)}`);
      t.true(hiddenErr < 1e-4, `last_hidden_state max error ${hiddenErr}`);
      t.true(logitsErr < 1e-5, `logits max error ${logitsErr}`);
      out.lastHiddenState.dispose();
      out.logits.dispose();
      disposeEncoderInputs(batch);
      model.dispose();
    });

    test.serial(`${modelType} on ${backend}: gradients through the encoder match finite differences`, async (t) => {
      const { model } = await loadEncoder(fixturePath(modelType));
      const batch = bertReferenceBatch(modelType);
      const labels = tf.tensor1d([0, 2, 1, 2], 'int32');
      const adapters = attachProbeAdapters(model);
      // the first layer's query adapter: its gradient crosses every kernel of every layer
      const probe = adapters.get(`${modelType}.encoder.layer.0.attention.self.query`)!;
      const head = [...model.headParams.values()][0];
      const loss = (): tf.Scalar => sequenceClassificationLoss(model.forward(batch, true).logits, labels, model.numLabels, 'sum');
      const { grads } = tf.variableGrads(loss, [probe, head]);
      for (const v of [probe, head]) {
        const g = grads[v.name];
        const dir = tf.randomNormal(v.shape, 0, 1, 'float32', 7);
        const analytic = tf.sum(g.mul(dir)).dataSync()[0];
        const eps = 1e-2; // central differences: curvature error O(eps²) against float32 noise ~5e-7 / eps
        const at = (s: number): number => {
          const saved = v.clone();
          tf.tidy(() => v.assign(saved.add(dir.mul(s))));
          const l = tf.tidy(() => loss().dataSync()[0]);
          v.assign(saved);
          saved.dispose();
          return l;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        t.log(`${modelType}/${backend} d(loss)·dir: analytic ${analytic.toExponential(4)}, numeric ${numeric.toExponential(4)}`);
        t.true(Math.abs(analytic) > 1e-4, 'the probe direction must move the loss');
        t.true(Math.abs(analytic - numeric) <= 1e-2 * Math.abs(analytic) + 1e-5, `analytic ${analytic} vs numeric ${numeric}`);
        dir.dispose();
      }
      Object.values(grads).forEach((g) => g.dispose());
      detachProbeAdapters(model, adapters);
      labels.dispose();
      disposeEncoderInputs(batch);
      model.dispose();
    });

    test.serial(`${modelType} on ${backend}: repeated forward and backward leave numTensors flat`, async (t) => {
      const { model } = await loadEncoder(fixturePath(modelType));
      const batch = bertReferenceBatch(modelType);
      const labels = tf.tensor1d([0, 2, 1, 2], 'int32');
      const step = (): void => {
        const out = model.forward(batch, false);
        out.lastHiddenState.dispose();
        out.logits.dispose();
        const { value, grads } = tf.variableGrads(() => sequenceClassificationLoss(model.forward(batch, true).logits, labels, model.numLabels, 'mean'));
        value.dispose();
        Object.values(grads).forEach((g) => g.dispose());
      };
      step(); // the first call may create lasting backend state
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) step();
      t.is(tf.memory().numTensors, before);
      labels.dispose();
      disposeEncoderInputs(batch);
      const withModel = tf.memory().numTensors;
      model.dispose();
      t.true(tf.memory().numTensors < withModel, 'dispose frees the model');
    });
  }
}

// A plain x·V branch on every encoder linear: enough to test that gradients reach them.
function attachProbeAdapters(model: EncoderModel): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  let seed = 1;
  for (const [id, linear] of model.linears) {
    const v = tf.variable(tf.randomNormal([linear.inFeatures, linear.outFeatures], 0, 0.05, 'float32', seed++), true);
    linear.adapter = { delta: (x) => tf.matMul(x, v) };
    vars.set(id, v);
  }
  return vars;
}

function detachProbeAdapters(model: EncoderModel, vars: Map<string, tf.Variable>): void {
  for (const linear of model.linears.values()) linear.adapter = null;
  vars.forEach((v) => v.dispose());
}
