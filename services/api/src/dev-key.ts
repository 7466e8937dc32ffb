import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSecret } from './api-keys.js';

/**
 * Outside production with no `API_KEYS`, the API is still closed: it makes a
 * random key, keeps it in `DATA_DIR/dev-api-key` (mode 0600) so restarts and
 * local tools reuse it, and returns it so `main` can print it once.
 */
export async function ensureDevApiKey(
  dataDir: string,
): Promise<{ secret: string; file: string; created: boolean }> {
  const file = join(dataDir, 'dev-api-key');
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length >= 16) return { secret, file, created: false };
  } catch {
    // no key yet
  }
  const secret = generateSecret();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { secret, file, created: true };
}
