import { type RedisServer, startRedisServer, waitFor } from '@solar-tasks/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRedisConfig, watchRedisConfig } from './redis-config-check.js';

const servers: RedisServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.stop({ removeData: true });
});

async function redisWith(options: Parameters<typeof startRedisServer>[0]): Promise<Redis> {
  const server = await startRedisServer(options);
  servers.push(server);
  const client = new Redis(server.url);
  clients.push(client);
  return client;
}

describe('checkRedisConfig', () => {
  it('flags an evicting Redis with no persistence, and production-only issues only in production', async () => {
    const redis = await redisWith({ extraArgs: ['--maxmemory-policy', 'allkeys-lru', '--hz', '10'] });
    const dev = await checkRedisConfig(redis, { production: false });
    expect(dev.map((w) => w.code)).toEqual(['EVICTION_POLICY']);
    expect(dev[0]).toMatchObject({ level: 'error', message: expect.stringContaining('"allkeys-lru"') });

    const prod = await checkRedisConfig(redis, { production: true });
    expect(prod.map((w) => [w.code, w.level])).toEqual([
      ['EVICTION_POLICY', 'error'],
      ['NO_PERSISTENCE', 'error'],
      ['LOW_HZ', 'warn'],
    ]);
    expect(prod[1]!.message).toContain('appendonly yes');
  });

  it('names RDB-only persistence, which loses the tasks queued since the last snapshot', async () => {
    const redis = await redisWith({ extraArgs: ['--save', '900 1'] });
    const warnings = await checkRedisConfig(redis, { production: true });
    expect(warnings.map((w) => w.code)).toEqual(['SNAPSHOT_ONLY_PERSISTENCE']);
    expect(warnings[0]!.message).toContain('save "900 1"');
  });

  it('finds nothing wrong with AOF on, noeviction and hz 100', async () => {
    const redis = await redisWith({ appendonly: true, extraArgs: ['--maxmemory-policy', 'noeviction'] });
    expect(await checkRedisConfig(redis, { production: true })).toEqual([]);
  });

  it('logs every problem on its own error line once the connection is ready', async () => {
    const redis = await redisWith({ extraArgs: ['--maxmemory-policy', 'volatile-lru'] });
    const lines: { level: string; obj: object; msg: string }[] = [];
    watchRedisConfig(redis, {
      production: true,
      logger: {
        error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
        warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
      },
    });
    await waitFor('two problems are logged', () => lines.length >= 2);
    expect(lines).toEqual([
      {
        level: 'error',
        obj: { redis_config: 'EVICTION_POLICY' },
        msg: expect.stringContaining('volatile-lru'),
      },
      { level: 'error', obj: { redis_config: 'NO_PERSISTENCE' }, msg: expect.stringContaining('AOF') },
    ]);
  });
});
