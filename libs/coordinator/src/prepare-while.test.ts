import test from 'ava';
import { prepareWhile } from './prepare-while';

class Handle {
  disposed = false;
  dispose(): void {
    this.disposed = true;
  }
}

test('prepare runs after the work queued its requests (its microtasks), and both results come back', async (t) => {
  const order: string[] = [];
  const work = (async () => {
    await Promise.resolve(); // as coverUnits awaits the live workers before sending
    await Promise.resolve();
    order.push('requests sent');
    await new Promise((resolve) => setTimeout(resolve, 20));
    order.push('replies in');
    return 7;
  })();
  const { result, prepared } = await prepareWhile(work, () => {
    order.push('prepared');
    return new Handle();
  });
  t.is(result, 7);
  t.false(prepared.disposed);
  t.deepEqual(order, ['requests sent', 'prepared', 'replies in']);
});

test('a failed work disposes what prepare made and rejects with its error', async (t) => {
  const handle = new Handle();
  const work = new Promise<number>((_, reject) => setTimeout(() => reject(new Error('worker lost')), 10));
  await t.throwsAsync(prepareWhile(work, () => handle), { message: 'worker lost' });
  await new Promise((resolve) => setImmediate(resolve));
  t.true(handle.disposed);
});

test('work that fails before prepare ran still gets prepare’s result disposed', async (t) => {
  const handle = new Handle();
  await t.throwsAsync(prepareWhile(Promise.reject(new Error('at once')), () => handle), { message: 'at once' });
  await new Promise((resolve) => setImmediate(resolve));
  t.true(handle.disposed);
});

test('a failing prepare rejects, and the work failing later raises nothing unhandled', async (t) => {
  let unhandled = 0;
  const count = () => unhandled++;
  process.on('unhandledRejection', count);
  try {
    const work = new Promise<number>((_, reject) => setTimeout(() => reject(new Error('later')), 10));
    await t.throwsAsync(
      prepareWhile(work, (): Handle => {
        throw new Error('prepare failed');
      }),
      { message: 'prepare failed' },
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    t.is(unhandled, 0);
  } finally {
    process.off('unhandledRejection', count);
  }
});
