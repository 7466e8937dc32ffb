import { type RedisServer, startRedisServer, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './test-support/stack.js';

let stack: Stack | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  await stack?.close();
  await redis?.stop({ removeData: true });
  stack = undefined;
  redis = undefined;
});

describe('when Redis is down', () => {
  it('answers 503 within a second, reports not ready, and recovers by itself', async () => {
    redis = await startRedisServer();
    stack = await startStack(redis.url);
    expect((await fetch(`${stack.baseUrl}/readyz`)).status).toBe(200);

    await redis.kill();

    const t0 = Date.now();
    const res = await stack.call('POST', '/api/tasks/enqueue/', { task_name: 'add_numbers', args: [1, 2] });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'QUEUE_UNAVAILABLE' } });
    const status = await stack.call('GET', '/api/tasks/status/2b5cf1a0-6c8e-4f0e-9d0b-0d3c2a3b4c5d/');
    expect(status.status).toBe(503);
    const metrics = await stack.call('GET', '/metrics');
    expect(metrics.status).toBe(503);
    expect(await metrics.json()).toMatchObject({ error: { code: 'QUEUE_UNAVAILABLE' } });
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, redis: 'down' });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);

    redis = await redis.restart();
    const s = stack;
    await waitFor('the API is ready again', async () => (await fetch(`${s.baseUrl}/readyz`)).status === 200, {
      timeoutMs: 15_000,
    });
    const again = await stack.call('POST', '/api/tasks/enqueue/', { task_name: 'add_numbers', args: [1, 2] });
    expect(again.status).toBe(201);
    const { task_id } = (await again.json()) as { task_id: string };
    await waitFor(
      'the task completes after the outage',
      async () => {
        const r = await s.call('GET', `/api/tasks/status/${task_id}/`);
        return ((await r.json()) as { status: string }).status === 'completed';
      },
      { timeoutMs: 15_000 },
    );
  });
});
