import { describe, expect, it } from 'vitest';
import { clusterOptions, describeRedis, redisOptions, redisTopology } from './redis-connection.js';
import { redisKeys } from './redis-keys.js';

describe('redisKeys', () => {
  it('puts each queue under its own hash tag and keeps the other names plain', () => {
    const keys = redisKeys('solar');
    expect(keys.queuePrefix('email')).toBe('solar:{email}');
    expect(keys.counters).toBe('solar:stats:task-totals');
    expect(keys.cancelChannel).toBe('solar:events:cancel');
    expect(keys.pattern).toBe('solar:*');
    expect(keys.key('{leads}', 'seen')).toBe('solar:{leads}:seen');
    expect(() => keys.key()).toThrow(/non-empty/);
  });

  it('refuses queue names that would break the hash tag', () => {
    expect(() => redisKeys('solar').queuePrefix('a}b')).toThrow(/contain no \{ \} or :/);
    expect(() => redisKeys('solar').queuePrefix('')).toThrow(/non-empty/);
    expect(() => redisKeys('')).toThrow(/prefix/);
  });
});

describe('connection options', () => {
  it('takes host, port, db and credentials from the URL, settings winning over it', () => {
    const o = redisOptions(
      { url: 'rediss://user:p%40ss@cache.internal:6380/2', prefix: 'p', password: 'override' },
      'api',
    );
    expect(o).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      db: 2,
      username: 'user',
      password: 'override',
      tls: {},
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
  });

  it('asks sentinels for the master, with TLS to both when asked, and retries forever for workers', () => {
    const settings = {
      prefix: 'p',
      sentinels: [{ host: 's1', port: 26379 }],
      sentinelName: 'mymaster',
      password: 'pw',
      tls: { ca: 'PEM' },
    };
    expect(redisTopology(settings)).toBe('sentinel');
    expect(redisOptions(settings, 'worker')).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'mymaster',
      role: 'master',
      password: 'pw',
      tls: { ca: 'PEM' },
      sentinelTLS: { ca: 'PEM' },
      enableTLSForSentinelMode: true,
      maxRetriesPerRequest: null,
    });
    expect(redisOptions(settings, 'worker').failoverDetector).toBeUndefined();
    expect(describeRedis(settings)).toBe('sentinel master "mymaster" via s1:26379 (tls)');
  });

  it('gives cluster nodes the role options and fails fast for the API', () => {
    const settings = { prefix: 'p', clusterNodes: [{ host: 'n1', port: 7000 }], username: 'app' };
    expect(redisTopology(settings)).toBe('cluster');
    expect(clusterOptions(settings, 'api')).toMatchObject({
      enableOfflineQueue: false,
      redisOptions: { username: 'app', maxRetriesPerRequest: 1, commandTimeout: 1500 },
    });
    expect(clusterOptions(settings, 'worker')).toMatchObject({
      enableOfflineQueue: true,
      redisOptions: { maxRetriesPerRequest: null },
    });
    expect(describeRedis(settings)).toBe('cluster via n1:7000');
  });

  it('never logs a password', () => {
    expect(describeRedis({ url: 'redis://u:secret@h:1', prefix: 'p' })).toBe('redis://u:***@h:1');
  });
});
