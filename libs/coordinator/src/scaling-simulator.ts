/**
 * A model of one synchronous step against worker count, for flat and aggregated layouts:
 * workers compute, send their gradient shares over their links, the coordinator reads and adds
 * each share as it arrives (its own link takes the shares one after another), makes the
 * optimizer step once, encodes the state once and hands it to every link. With aggregators, each
 * aggregator does the coordinator's gathering for its group and sends one summed share on.
 * Costs are per value or per byte, measured on a machine (see measureMachineCosts); the model is
 * checked against measured synthetic-worker runs by tools/simulate-scaling.ts.
 */

/** What the machine doing the coordinator's (and an aggregator's) work costs, in ms. */
export interface MachineCosts {
  /** reading one gradient share's frames, checking it and adding it to the running sum, per value */
  readonly readSumMsPerValue: number;
  /**
   * the regulariser's gradient, which needs only the state before the step: made while the
   * workers compute (once per step), per value. It holds up the reading of shares that arrive
   * before it is done, and on one thread everything else too.
   */
  readonly prepareMsPerValue: number;
  /** the mean of the summed shares, per value (once per step) */
  readonly meanMsPerValue: number;
  /** AdamW with the orthogonal regulariser, per value (once per step) */
  readonly optimizerMsPerValue: number;
  /** the rank allocation, per value (once per step) */
  readonly allocationMsPerValue: number;
  /** encoding the state message, per value (once per step) */
  readonly encodeMsPerValue: number;
  /** handing one peer's copy of the state to its socket, per byte */
  readonly sendMsPerByte: number;
  /**
   * only when the workers share the coordinator's process (synthetic workers in one process):
   * a worker encoding its share, per byte, and reading the state, per byte; 0 otherwise
   */
  readonly workerEncodeMsPerByte: number;
  readonly workerReadMsPerByte: number;
  /**
   * only on one thread: a share encoded by its worker, sent over loopback and read by the
   * coordinator, and the state received and read by a worker, per byte, measured together as
   * they interleave in such a run
   * (a byte costs more there than the link and the reading measured apart show: the data in
   * flight, the caches); when given, they replace the link and the reading there
   */
  readonly shareArrivalMsPerByte?: number;
  readonly stateArrivalMsPerByte?: number;
}

/** The run and the network being modelled. */
export interface ScalingScenario {
  /** trainable values (the adapter set) */
  readonly values: number;
  /** bytes per value of a gradient share on the wire (8: float64; 4: float32, or a float64 wire's share of one micro-batch) and of the state (4: float32) */
  readonly gradientBytesPerValue: number;
  readonly stateBytesPerValue: number;
  readonly rowsPerWorker: number;
  /** compute time per sample on a worker */
  readonly sampleMs: number;
  /** every link's bandwidth (Gbit/s) and one-way latency (ms); Infinity / 0 for loopback in one process */
  readonly linkGbps: number;
  readonly latencyMs: number;
  /**
   * the bandwidth a worker's share gets towards the coordinator, when it differs from
   * `linkGbps` (loopback: a client masks what it sends, and a share is many large frames);
   * default linkGbps
   */
  readonly shareLinkGbps?: number;
  /** aggregators between coordinator and workers (0: flat, every worker on the coordinator) */
  readonly aggregators: number;
  /**
   * the workers run in the coordinator's process (synthetic connections, loopback): nothing
   * overlaps, every share's wire time and reading follow one another on one thread
   */
  readonly oneThread?: boolean;
}

/** One predicted step. */
export interface PredictedStep {
  readonly workers: number;
  readonly totalMs: number;
  readonly computeMs: number;
  /** the coordinator's serial work: summing (beyond what overlaps the arrivals), optimizer, allocation, encode */
  readonly coordinatorMs: number;
  /** what is left: links, latency, waiting for shares */
  readonly transferMs: number;
  readonly samplesPerSecond: number;
  /** samples/s over workers × one worker's samples/s with no coordinator cost */
  readonly efficiency: number;
}

const msPerByte = (gbps: number) => (Number.isFinite(gbps) ? 8 / (gbps * 1e6) : 0);

/**
 * When the last of `shares` shares is read and added at a node that receives them over one
 * link: share k (0-based) has arrived at `ready + (k + 1) · wire` and is added after the one
 * before, taking `read` each, once the node's thread is free (at `busyUntil`). On one thread
 * (the workers in the node's process) nothing overlaps.
 */
function gatherEnd(shares: number, ready: number, wire: number, read: number, busyUntil: number, oneThread = false): number {
  if (oneThread) return busyUntil + ready + shares * (wire + read);
  let done = busyUntil;
  for (let k = 0; k < shares; k++) done = Math.max(ready + (k + 1) * wire, done) + read;
  return done;
}

/** The predicted step time of `workers` workers (split evenly among the aggregators, if any). */
export function predictStep(s: ScalingScenario, c: MachineCosts, workers: number): PredictedStep {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`predictStep: workers must be an integer >= 1, got ${workers}`);
  if (!Number.isInteger(s.aggregators) || s.aggregators < 0) throw new Error(`predictStep: aggregators must be an integer >= 0, got ${s.aggregators}`);
  const perByte = msPerByte(s.linkGbps);
  const gradBytes = s.values * s.gradientBytesPerValue;
  const stateBytes = s.values * s.stateBytesPerValue;
  const computeMs = s.rowsPerWorker * s.sampleMs;
  // a worker in the coordinator's process encodes its share there too: it adds to the share's wire time
  const shareWire = gradBytes * (msPerByte(s.shareLinkGbps ?? s.linkGbps) + c.workerEncodeMsPerByte);
  const read = s.values * c.readSumMsPerValue;
  const prepare = s.values * c.prepareMsPerValue;
  const once = s.values * (c.meanMsPerValue + c.optimizerMsPerValue + c.allocationMsPerValue + c.encodeMsPerValue);
  // handing the state to `peers` sockets, and the link draining it; in-process readers read it on the same thread
  const fanOut = (peers: number) => Math.max(peers * stateBytes * (c.sendMsPerByte + c.workerReadMsPerByte), peers * stateBytes * perByte);
  const ready = computeMs + s.latencyMs;
  let gathered: number;
  let stateOut: number;
  const flat = s.aggregators === 0 || s.aggregators >= workers;
  if (flat && s.oneThread) {
    const share = c.shareArrivalMsPerByte === undefined ? shareWire + read : gradBytes * c.shareArrivalMsPerByte;
    gathered = gatherEnd(workers, ready, share, 0, prepare, true);
    stateOut = workers * stateBytes * (c.stateArrivalMsPerByte ?? c.sendMsPerByte + c.workerReadMsPerByte + perByte);
  } else if (flat) {
    gathered = gatherEnd(workers, ready, shareWire, read, prepare);
    stateOut = fanOut(workers) + s.latencyMs;
  } else {
    // the largest group sets the pace; each aggregator forwards one summed share, then the state
    const group = Math.ceil(workers / s.aggregators);
    const groupDone = gatherEnd(group, ready, shareWire, read, 0) + s.latencyMs;
    gathered = gatherEnd(s.aggregators, groupDone, gradBytes * perByte, read, prepare);
    stateOut = fanOut(s.aggregators) + s.latencyMs + fanOut(group) + s.latencyMs;
  }
  const totalMs = gathered + once + stateOut;
  const samples = workers * s.rowsPerWorker;
  const samplesPerSecond = (samples * 1000) / totalMs;
  const ideal = computeMs > 0 ? (workers * s.rowsPerWorker * 1000) / computeMs : Infinity;
  return {
    workers,
    totalMs,
    computeMs,
    coordinatorMs: once + read,
    transferMs: Math.max(0, totalMs - computeMs - once - read),
    samplesPerSecond,
    efficiency: Number.isFinite(ideal) ? samplesPerSecond / ideal : 0,
  };
}

/** predictStep over several worker counts. */
export function predictScaling(s: ScalingScenario, c: MachineCosts, workerCounts: readonly number[]): PredictedStep[] {
  return workerCounts.map((w) => predictStep(s, c, w));
}
