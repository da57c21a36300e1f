import test from 'ava';
import { mulberry32 } from '@adalora/core';
import { decodeMessage } from '@adalora/protocol';
import { FuzzFrames, type FuzzContext } from './fuzz-frames';

const context: FuzzContext = { runId: 'run', step: 3, tensors: [{ name: 'classifier.bias', shape: [1] }, { name: 'classifier.weight', shape: [1, 8] }] };
const frames = (seed: number, n: number) => {
  const f = new FuzzFrames(mulberry32(seed));
  return Array.from({ length: n }, () => Buffer.from(f.next(context)).toString('hex'));
};

test('a seed gives the same frames, another seed others: a fuzz failure replays', (t) => {
  t.deepEqual(frames(7, 200), frames(7, 200));
  t.notDeepEqual(frames(7, 200), frames(8, 200));
});

test('the frames mix well-formed MessagePack with bytes that are not', (t) => {
  const decodes = frames(1, 1000).map((hex) => {
    try {
      decodeMessage(Buffer.from(hex, 'hex'));
      return true;
    } catch {
      return false;
    }
  });
  const ok = decodes.filter(Boolean).length;
  t.log(`${ok} of 1000 decode`);
  t.true(ok > 200 && ok < 800, `${ok} of 1000 decode`);
});

test('a reply for another step or request names the right run and trainables, never the asked-for pair', (t) => {
  const f = new FuzzFrames(mulberry32(3));
  for (let i = 0; i < 50; i++) {
    const m = decodeMessage(f.replyElsewhere('run', context.tensors, 5, 9)) as { runId: string; step: number; requestId: number; tensors: { name: string }[] };
    t.is(m.runId, 'run');
    t.deepEqual(m.tensors.map((x) => x.name), ['classifier.bias', 'classifier.weight']);
    t.false(m.step === 5 && m.requestId === 9);
  }
});
