import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunSecret } from './run-secret';

test('the secret comes from the file first, else the environment, else there is none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-secret-'));
  try {
    const file = join(dir, 'secret');
    writeFileSync(file, '0123456789abcdef0123\n');
    t.is(new TextDecoder().decode(readRunSecret(file, { ADALORA_SECRET: 'from the environment!!' })!), '0123456789abcdef0123', 'file wins, newline dropped');
    t.is(new TextDecoder().decode(readRunSecret(undefined, { ADALORA_SECRET: 'from the environment!!' })!), 'from the environment!!');
    t.is(readRunSecret(undefined, {}), null);
    t.is(readRunSecret(undefined, { ADALORA_SECRET: '' }), null);
    t.throws(() => readRunSecret(join(dir, 'missing'), {}), { message: /secret file .*missing: cannot read \(ENOENT\)/ });
    writeFileSync(file, 'short\n');
    t.throws(() => readRunSecret(file, {}), { message: /secret file .*: the run secret must be at least 16 bytes/ });
    t.throws(() => readRunSecret(undefined, { ADALORA_SECRET: 'short' }), { message: /^ADALORA_SECRET: the run secret must be at least 16 bytes/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
