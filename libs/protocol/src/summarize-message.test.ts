import test from 'ava';
import { coordinatorSamples, workerSamples } from '@adalora/test-support';
import type { ProtocolMessage } from './messages';
import { summarizeMessage } from './summarize-message';

test('every message has a one-line summary without payload values', (t) => {
  const all = [...Object.values(workerSamples()), ...Object.values(coordinatorSamples())] as ProtocolMessage[];
  for (const msg of all) {
    const s = summarizeMessage(msg);
    t.true(s.startsWith(msg.type), s);
    t.false(s.includes('\n'));
    t.false(s.includes('out of memory'), 'no free text');
  }
  t.is(summarizeMessage(workerSamples().gradients), 'gradients step=3 request=1 n=16 tensors=3 (52 B)');
});
