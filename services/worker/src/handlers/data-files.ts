import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** `mkdir -p`; cheap enough per task, and it recreates a folder an operator removed. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

/** Writes a whole file, then renames it into place: a reader never sees half of it. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(dirname(file));
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  await writeFile(partial, data);
  await rename(partial, file);
}
