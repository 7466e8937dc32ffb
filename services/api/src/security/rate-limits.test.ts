import { testRedisUrl } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { READ_ONLY_KEY, type Stack, startStack, TEST_KEY } from '../test-support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const get = (s: Stack, key: string | undefined, ip = '10.0.0.1') =>
  s.app.inject({
    method: 'GET',
    url: '/api/tasks/list/',
    headers: key ? { authorization: `Bearer ${key}` } : {},
    remoteAddress: ip,
  });

describe('rate limits', () => {
  it('answers 429 with Retry-After once a key is over its limit, and other keys are not affected', async () => {
    stack = await startStack(testRedisUrl(), {
      startWorker: false,
      limits: { perKeyMax: 5, windowMs: 60_000 },
    });
    for (let i = 0; i < 5; i++) {
      const ok = await get(stack, TEST_KEY);
      expect(ok.statusCode).toBe(200);
      expect(ok.headers).toMatchObject({
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': String(4 - i),
        'x-ratelimit-reset': expect.stringMatching(/^(60|59)$/),
      });
    }
    const limited = await get(stack, TEST_KEY);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.json()).toMatchObject({
      error: {
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/^rate limit exceeded; retry in \d+ s$/),
        details: { limit: 5, retry_after_seconds: Number(limited.headers['retry-after']) },
      },
    });
    expect((await get(stack, READ_ONLY_KEY)).statusCode).toBe(200);
  });

  it('slows down key guessing per client IP without touching callers that hold a valid key', async () => {
    stack = await startStack(testRedisUrl(), {
      startWorker: false,
      limits: { perIpMax: 3, windowMs: 60_000 },
    });
    for (let i = 0; i < 3; i++)
      expect((await get(stack, `guess-${i}-0123456789abcdef`)).statusCode).toBe(401);
    const limited = await get(stack, 'guess-4-0123456789abcdef');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await get(stack, undefined)).statusCode).toBe(429);
    expect((await get(stack, 'guess-5-0123456789abcdef', '10.0.0.2')).statusCode).toBe(401);
    expect((await get(stack, TEST_KEY)).statusCode).toBe(200);
  });

  it('counts in Redis, so the limit holds across API replicas', async () => {
    stack = await startStack(testRedisUrl(), {
      startWorker: false,
      limits: { perKeyMax: 4, windowMs: 60_000 },
    });
    const { buildApp } = await import('../app.js');
    const { parseApiKeys } = await import('../api-keys.js');
    const { createRedisConnection } = await import('@solar-tasks/queue');
    const redis = createRedisConnection({ url: testRedisUrl(), prefix: stack.prefix }, 'api');
    const replica = await buildApp({
      queue: stack.queue,
      apiKeys: parseApiKeys(`admin:${TEST_KEY}`, undefined),
      logger: false,
      limits: { perKeyMax: 4, windowMs: 60_000, redis, nameSpace: `${stack.prefix}:rate-limit:` },
    });
    try {
      expect((await get(stack, TEST_KEY)).statusCode).toBe(200);
      expect((await get(stack, TEST_KEY)).statusCode).toBe(200);
      const other = { ...stack, app: replica } as Stack;
      expect((await get(other, TEST_KEY)).statusCode).toBe(200);
      expect((await get(other, TEST_KEY)).statusCode).toBe(200);
      expect((await get(other, TEST_KEY)).statusCode).toBe(429);
      expect((await get(stack, TEST_KEY)).statusCode).toBe(429);
    } finally {
      await replica.close();
      redis.disconnect();
    }
  });

  it('refuses every dashboard login from an IP after too many wrong ones, counted in Redis across replicas', async () => {
    const admin = { username: 'ops', password: 'ops-password-0123456789', loginLimit: { max: 3 } };
    stack = await startStack(testRedisUrl(), { startWorker: false, admin });
    const basic = (pass: string) => `Basic ${Buffer.from(`ops:${pass}`).toString('base64')}`;
    const login = (authorization: string, ip = '10.0.0.9', url = '/admin') =>
      stack!.app.inject({ method: 'GET', url, headers: { authorization }, remoteAddress: ip });

    expect((await login(basic(admin.password))).statusCode).toBe(200);
    // Polling with the right login does not use up the allowance.
    for (let i = 0; i < 5; i++) expect((await login(basic(admin.password))).statusCode).toBe(200);
    expect((await login(basic('wrong-1'))).statusCode).toBe(401);
    expect((await login('Bearer not-a-key-0123456789', '10.0.0.9', '/metrics')).statusCode).toBe(401);
    expect((await login(basic('wrong-3'))).statusCode).toBe(401);
    const limited = await login(basic('wrong-4'));
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(500);
    // The right password too, or a guesser would learn when it hit; /metrics shares the count.
    expect((await login(basic(admin.password))).statusCode).toBe(429);
    expect((await login(`Bearer ${TEST_KEY}`, '10.0.0.9', '/metrics')).statusCode).toBe(429);
    // Other clients are not affected.
    expect((await login(basic(admin.password), '10.0.0.10')).statusCode).toBe(200);
    // The count lives in Redis, where another API replica would read it.
    const keys = await stack.redis.api.keys(`${stack.prefix}:rate-limit:admin-login:*`);
    expect(keys).toEqual([`${stack.prefix}:rate-limit:admin-login:10.0.0.9`]);
  });
});
