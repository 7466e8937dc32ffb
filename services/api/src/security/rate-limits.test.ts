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
    for (let i = 0; i < 5; i++) expect((await get(stack, TEST_KEY)).statusCode).toBe(200);
    const limited = await get(stack, TEST_KEY);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
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
});
