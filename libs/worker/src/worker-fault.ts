/** A fault the worker reports to the coordinator before closing (its own module: the index exports it without loading tfjs). */
export class WorkerFault extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
