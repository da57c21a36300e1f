/**
 * @adalora/test-support: what the tests and benchmarks share and the product never needs: where
 * the shared fixtures are, peft's recorded public-bert run, the BERT/RoBERTa and DeBERTa-v2
 * fixture helpers, the backend suite of the encoder tests, sample protocol messages and a
 * deliberately broken cpu backend, an in-process cluster (coordinator + workers over loopback),
 * the per-step losses of a run's metrics file, CLI processes to start and watch, and headless Chromium for the browser tests. Only test files (`*.test.ts`) and tools/ may import it
 * (tools/module-boundaries.test.ts); it may import any lib.
 */
export { repoRoot, fixturePath } from './fixture-paths';
export { loadPublicBertTrace, type PublicBertTrace, type TraceStep } from './public-bert-trace';
export { bertReferenceBatch, maxAbsError, rawSafetensors, readBertReference, type BertFixture, type BertReference, type RawEntry } from './bert-fixtures';
export { registerBackendSuite } from './bert-backend-suite';
export {
  debertaAdapterTensors,
  debertaFixtureTensors,
  debertaGradientCheck,
  debertaReferenceBatch,
  loadDebertaFixtureModel,
  maxAbsDiff,
  readDebertaReference,
  tensorCountsOverForwards,
  type DebertaReference,
} from './deberta-v2-fixtures';
export { coordinatorSamples, DELETE, ramp, sampleBatch, withField, workerSamples } from './sample-messages';
export { registerCpuVariant, type CpuVariantChange } from './cpu-variant';
export { runLocalCluster, type LocalClusterOptions, type LocalClusterResult } from './local-cluster';
export { stepLosses } from './run-metrics';
export { syntheticSquad, writeSyntheticSquad, type SyntheticSquadOptions } from './squad-synthetic';
export { freePort, startCli, until, type CliExit, type CliProcess } from './cli-process';
export { FuzzFrames, type FuzzContext } from './fuzz-frames';
export { shortBuiltinConfig } from './short-builtin-run';
export { OPENSSL_MISSING, selfSignedCertificate } from './self-signed';
export { CHROMIUM_PATH, chromiumMissing, launchHeadlessChromium } from './headless-chromium';
export { pageRunView, type PageHeatmapCell, type PageView } from './page-run-view';
