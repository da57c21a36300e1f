import { readFileSync } from 'node:fs';
import { MIN_SECRET_BYTES } from './auth';

/** The environment variable that may hold the run secret (when no secret file is given). */
export const SECRET_ENV = 'ADALORA_SECRET';

/**
 * The run secret, from a file (one trailing newline dropped) or else from ADALORA_SECRET; null
 * when neither is set. Never from the command line: argv is visible to every user of the machine.
 * @throws Error naming the file or the variable when it cannot be read or is shorter than MIN_SECRET_BYTES
 */
export function readRunSecret(file: string | undefined, env: Readonly<Record<string, string | undefined>>): Uint8Array | null {
  let text: string;
  let from: string;
  if (file !== undefined) {
    from = `secret file ${file}`;
    try {
      text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new Error(`${from}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else if (env[SECRET_ENV] !== undefined && env[SECRET_ENV] !== '') {
    from = SECRET_ENV;
    text = env[SECRET_ENV];
  } else {
    return null;
  }
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new Error(`${from}: the run secret must be at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`), got ${bytes.byteLength}`);
  }
  return bytes;
}
