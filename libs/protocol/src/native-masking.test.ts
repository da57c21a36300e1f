import test from 'ava';
import { arch, platform } from 'node:os';
import { nativeFrameMasking } from './native-masking';

// bufferutil ships prebuilt binaries for these; elsewhere it may be absent, and ws masks in JS
const PREBUILT = ['linux-x64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

test('ws masks frames natively (bufferutil) where it is prebuilt', (t) => {
  const here = `${platform()}-${arch()}`;
  if (!PREBUILT.includes(here) || process.env.WS_NO_BUFFER_UTIL) {
    t.log(`skipped: no bufferutil prebuild expected on ${here} (or WS_NO_BUFFER_UTIL is set)`);
    t.pass();
    return;
  }
  t.true(nativeFrameMasking(), `bufferutil did not load on ${here}: npm ci without optional dependencies?`);
});
