import test from 'ava';
import { isProtocolError, type CoordinatorToWorker, type EvalResultMessage, type GradientsMessage } from '@adalora/protocol';
import { DeadlineError, RequestChannel, type Timers } from './request-channel';

/** Timers fired by hand: `fire()` runs every timer still set. */
function manualTimers(): Timers & { fire(): void; readonly count: number } {
  const set = new Map<number, () => void>();
  let next = 0;
  return {
    set: (fire) => (set.set(next, fire), next++),
    clear: (handle) => void set.delete(handle as number),
    fire: () => [...set.values()].forEach((f) => f()),
    get count() {
      return set.size;
    },
  };
}

function channel() {
  const sent: CoordinatorToWorker[] = [];
  const deadlines: DeadlineError[] = [];
  const timers = manualTimers();
  const ch = new RequestChannel({ label: 'worker 0', send: (m) => sent.push(m) }, 1000, (e) => deadlines.push(e), timers);
  return { ch, sent, deadlines, timers };
}

const gradients = (requestId: number): GradientsMessage => ({ type: 'gradients', runId: 'r', step: 0, requestId, sampleCount: 0, lossSum: 0, computeMs: 0, tensors: [] });
const evalResult = (requestId: number): EvalResultMessage => ({ type: 'evalResult', runId: 'r', requestId, sampleIds: [], outputs: { dtype: 'float32', shape: [0, 1], data: new Uint8Array(0) } });
const compute = (requestId: number): CoordinatorToWorker => ({ type: 'compute', runId: 'r', step: 0, requestId, seed: 0, microBatches: [0], samples: null as never });
const evaluate = (requestId: number): CoordinatorToWorker => ({ type: 'evaluate', runId: 'r', requestId, samples: null as never });

test('a reply with the pending requestId resolves the request and clears its deadline', async (t) => {
  const { ch, sent, timers } = channel();
  const reply = ch.request('compute', compute);
  t.true(ch.busy);
  t.is(timers.count, 1);
  t.like(sent[0], { type: 'compute', requestId: 0 });
  t.is(ch.onReply(gradients(0)), 'accepted');
  t.deepEqual(await reply, gradients(0));
  t.false(ch.busy);
  t.is(timers.count, 0);
  // compute and evaluate share one sequence of ids
  const next = ch.request('evaluate', evaluate);
  t.like(sent[1], { type: 'evaluate', requestId: 1 });
  ch.onReply(evalResult(1));
  t.like(await next, { type: 'evalResult', requestId: 1 });
});

test('a stale reply (the answer to an earlier request) is ignored without effect', async (t) => {
  const { ch } = channel();
  const first = ch.request('compute', compute);
  ch.onReply(gradients(0));
  await first;
  const second = ch.request('compute', compute);
  t.is(ch.onReply(gradients(0)), 'stale', 'the duplicate of request 0');
  t.true(ch.busy, 'request 1 is still pending');
  t.is(ch.onReply(gradients(1)), 'accepted');
  t.is((await second).requestId, 1);
});

test('an unasked reply is refused with PROTO_ERR_UNEXPECTED: no request pending, the wrong kind, or a requestId from the future', async (t) => {
  const { ch } = channel();
  const unexpected = (f: () => unknown) => {
    const e = t.throws(f);
    t.true(isProtocolError(e, 'PROTO_ERR_UNEXPECTED'), String(e));
  };
  unexpected(() => ch.onReply(gradients(0)));
  const pending = ch.request('compute', compute);
  unexpected(() => ch.onReply(evalResult(0)));
  unexpected(() => ch.onReply(gradients(1)));
  t.true(ch.busy, 'a refused reply leaves the pending request alone');
  ch.onReply(gradients(0));
  await pending;
  unexpected(() => ch.onReply(gradients(0)));
});

test('a deadline fires: the pending request fails, the link is told, a late reply is then unasked', async (t) => {
  const { ch, deadlines, timers } = channel();
  const pending = ch.request('evaluate', evaluate);
  timers.fire();
  const e = await t.throwsAsync(pending, { instanceOf: DeadlineError });
  t.regex(e!.message, /worker 0: no reply to evaluate request 0 within 1000 ms/);
  t.deepEqual(deadlines, [e]);
  t.false(ch.busy);
  t.throws(() => ch.onReply(evalResult(0)), { code: 'PROTO_ERR_UNEXPECTED' } as never);
});

test('a failed link fails the pending request and every later one; asking twice at once is a bug', async (t) => {
  const { ch, sent } = channel();
  const pending = ch.request('compute', compute);
  t.throws(() => ch.request('compute', compute), { message: /while request 0 is pending/ });
  ch.fail(new Error('gone'));
  await t.throwsAsync(pending, { message: 'gone' });
  await t.throwsAsync(ch.request('compute', compute), { message: 'gone' });
  t.is(sent.length, 1, 'nothing is sent on a failed link');
});
