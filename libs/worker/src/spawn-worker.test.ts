import test from 'ava';
import { spawnWorkerProcess } from './spawn-worker';

test('spawnWorkerProcess runs the `adalora worker` command in a child process', async (t) => {
  const child = spawnWorkerProcess(['--help']);
  let stdout = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0);
  t.regex(stdout, /Usage: adalora worker/);
  t.regex(stdout, /--coordinator <url>/);
});
