import type { Predictor, ScalePrediction } from './scale-prediction';
import type { Measurement } from './scale-table';

/** What `adalora scale` asks a source for at one worker count. */
export interface MeasureRequest {
  readonly workers: number;
  readonly warmupSteps: number;
  /** measured steps, after the warm-up */
  readonly steps: number;
}

/**
 * Where the measured steps come from: real workers (local child processes or started
 * elsewhere) today; synthetic workers or a simulator plug in as other implementations.
 */
export interface MeasurementSource {
  /** shown in the table's heading and in scale.json, e.g. "local workers (child processes)" */
  readonly description: string;
  /** where the parts this source leaves null are counted, if anywhere */
  readonly splitNote?: string;
  /** the warm-up and then the measured steps at `workers`; resolves with the measured ones only */
  measure(request: MeasureRequest): Promise<Measurement>;
  /**
   * the scaling simulator for this source's set-up, after its counts were measured (sources
   * that model their set-up only: synthetic workers); a cluster of `linkGbps` links besides
   */
  predictor?(cluster: { linkGbps: number; latencyMs: number }): Promise<{ predictor: Predictor; describe: Omit<ScalePrediction, 'rows'> }>;
  /** abandons a measurement in flight (Ctrl-C) */
  stop(): void;
}
