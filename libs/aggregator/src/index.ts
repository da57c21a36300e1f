/**
 * @adalora/aggregator: the aggregation tier. An aggregator joins a coordinator as one worker and
 * serves workers of its own (e.g. one per machine), which join it exactly as they would join a
 * coordinator. It passes the run, the model files and every adapter state on, covers each
 * request on its live workers with the coordinator's share planner and worker pool, and answers
 * with one reply: the float64 sum of their gradient shares (bit-identical to a flat cluster with
 * the default float64 wire), or their evaluation outputs in order. The coordinator's traffic
 * then grows with the number of aggregators, not of workers.
 */
export { runAggregator, type AggregatorOptions } from './run-aggregator';
export { AggregatorSession, type AggregatorSessionOptions } from './aggregator-session';
export { type GroupOptions } from './worker-group';
/** How a request is cut into shares for the group, and the shares' replies put back together. */
export { joinOutputs, shareCompute, shareEvaluate, shareSamples, sumShares, type IdentifiedBatch } from './group-shares';
