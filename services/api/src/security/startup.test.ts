import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs the real API entry point with exactly `env` (plus PATH), collecting its output. */
function runApi(env: Record<string, string>) {
  const child = spawn(tsx, ['--conditions=@solar-tasks/source', main], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => {
    output.stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output.stderr += d.toString();
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  return { child, output };
}

describe('starting the API', () => {
  it('refuses to start in production without keys, dashboard credentials and webhook secret, naming each', async () => {
    const { child, output } = runApi({ NODE_ENV: 'production', REDIS_URL: testRedisUrl() });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    for (const name of ['API_KEYS', 'ADMIN_USERNAME', 'ADMIN_PASSWORD', 'EMAILJS_WEBHOOK_SECRET']) {
      expect(output.stderr).toContain(name);
    }
  });

  it('names the variable when a setting is invalid', async () => {
    const { child, output } = runApi({ PORT: 'eighty', REDIS_URL: testRedisUrl() });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(output.stderr).toMatch(/PORT: must be a number/);
  });

  it('outside production with no keys, makes a key, prints it once, keeps it 0600, and stays closed without it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'solar-api-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const { output } = runApi({
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: uniquePrefix('devkey'),
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the API answers', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok);
    const file = join(dataDir, 'dev-api-key');
    const secret = (await readFile(file, 'utf8')).trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(output.stderr.split(secret).length - 1).toBe(1);
    expect((await fetch(`${base}/api/tasks/list/`)).status).toBe(401);
    expect(
      (await fetch(`${base}/api/tasks/list/`, { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(200);
  });
});
