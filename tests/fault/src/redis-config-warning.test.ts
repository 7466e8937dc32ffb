import { waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { setupFaultStack } from './harness/fault-stack.js';
import type { ServiceProcess } from './harness/service-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The pino lines a process wrote that carry a `redis_config` code. */
function configLines(proc: ServiceProcess): { level: string; redis_config: string; msg: string }[] {
  return proc
    .output()
    .filter((line) => line.includes('"redis_config"'))
    .map((line) => JSON.parse(line) as { level: string; redis_config: string; msg: string });
}

describe('a misconfigured Redis in production', () => {
  it('makes the API and every worker log one error line per problem at start', async () => {
    // allkeys-lru evicts queued tasks under memory pressure; no AOF and no RDB loses them on restart.
    const stack = await setupFaultStack(cleanups, {
      redis: { appendonly: false, extraArgs: ['--maxmemory-policy', 'allkeys-lru'] },
    });
    const production = {
      NODE_ENV: 'production',
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'admin-password-0123456789',
      EMAILJS_WEBHOOK_SECRET: 'emailjs-secret-0123456789',
    };
    const api = await stack.spawnApi(production);
    const worker = stack.spawnWorker(production);

    for (const proc of [api.proc, worker]) {
      const lines = await waitFor(`the ${proc.kind} logs both problems`, () => {
        const found = configLines(proc);
        return found.length >= 2 ? found : undefined;
      });
      expect(lines).toEqual([
        {
          ...lines[0],
          level: 'error',
          redis_config: 'EVICTION_POLICY',
          msg: expect.stringContaining('allkeys-lru'),
        },
        {
          ...lines[1],
          level: 'error',
          redis_config: 'NO_PERSISTENCE',
          msg: expect.stringContaining('appendonly yes'),
        },
      ]);
      expect(proc.alive()).toBe(true); // a warning, not a refusal: the operator decides
    }
  });
});
