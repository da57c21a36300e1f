/** A fault the worker reports to the coordinator before closing. */
export class WorkerFault extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
