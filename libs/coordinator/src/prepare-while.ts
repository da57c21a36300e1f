/**
 * Runs `prepare` while `work` (already started) waits for its replies: at the next turn of the
 * event loop, so the requests `work` queued are already sent. JS is single-threaded, so
 * prepare's synchronous work (the optimizer's share of the next step that needs only the state
 * before it) fills time the coordinator would spend waiting. When either fails, what prepare
 * made is disposed.
 */
export async function prepareWhile<T, P extends { dispose(): void }>(work: Promise<T>, prepare: () => P): Promise<{ result: T; prepared: P }> {
  const preparing = new Promise<P>((resolve, reject) =>
    setImmediate(() => {
      try {
        resolve(prepare());
      } catch (e) {
        reject(e as Error);
      }
    }),
  );
  try {
    const [result, prepared] = await Promise.all([work, preparing]);
    return { result, prepared };
  } catch (e) {
    preparing.then((p) => p.dispose(), () => {});
    throw e;
  }
}
