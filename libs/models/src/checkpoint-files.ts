import { readFile } from 'node:fs/promises';

/** A file's bytes; an error names the file (and says `whenMissing` when it does not exist). */
export async function readFileBytes(file: string, whenMissing?: string): Promise<Uint8Array> {
  const bytes = await readOptionalFileBytes(file);
  if (bytes === null) throw new Error(`${file}: ${whenMissing ?? 'cannot read file (ENOENT)'}`);
  return bytes;
}

/** A file's bytes, or null when it does not exist; any other failure names the file. */
export async function readOptionalFileBytes(file: string): Promise<Uint8Array | null> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new Error(`${file}: cannot read file (${code ?? (e as Error).message})`);
  }
}
