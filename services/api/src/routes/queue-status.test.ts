import type { QueueStatusResponse } from '@solar-tasks/contract';
import { queueStatusResponseSchema } from '@solar-tasks/contract';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../test-support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function queueStatus(s: Stack): Promise<QueueStatusResponse> {
  const res = await s.call('GET', '/api/tasks/queue-status/');
  expect(res.status).toBe(200);
  // The contract's schema (what the TS client parses) accepts it, new fields included.
  return queueStatusResponseSchema.parse(await res.json());
}

describe('GET /api/tasks/queue-status/', () => {
  it('reports workers online, the oldest pending age and the last minutes’ throughput', async () => {
    stack = await startStack(testRedisUrl(), { startWorker: false });
    const s = stack;
    const enqueuedFrom = Date.now();
    for (const args of [
      [1, 2],
      [3, 4],
    ])
      expect((await s.call('POST', '/api/tasks/enqueue/', { task_name: 'add_numbers', args })).status).toBe(
        201,
      );

    const before = await waitFor('the waiting tasks age', async () => {
      const q = await queueStatus(s);
      return (q.oldest_pending_age_seconds ?? 0) >= 0.2 ? q : undefined;
    });
    expect(before.workers_online).toBe(0);
    expect(before.queues.default?.oldest_pending_age_seconds).toBe(before.oldest_pending_age_seconds);
    expect(before.oldest_pending_age_seconds).toBeLessThanOrEqual((Date.now() - enqueuedFrom) / 1000);
    expect(before.queues.email?.oldest_pending_age_seconds).toBe(0);
    expect(before.throughput?.minutes).toBe(15);
    expect(before.throughput?.per_minute).toHaveLength(15);

    await s.worker.start();
    expect((await s.call('POST', '/api/tasks/enqueue/', { task_name: 'permanent_failure' })).status).toBe(
      201,
    );
    expect(
      (
        await s.call('POST', '/api/tasks/enqueue/', {
          task_name: 'flaky',
          kwargs: { fail_times: 1 },
          retry_delay: 0.05,
        })
      ).status,
    ).toBe(201);
    const after = await waitFor('the finished tasks show in this minute’s throughput', async () => {
      const q = await queueStatus(s);
      const sum = (k: 'completed' | 'failed' | 'retried') =>
        (q.throughput?.per_minute ?? []).reduce((n, m) => n + m[k], 0);
      return sum('completed') === 3 && sum('failed') === 1 && sum('retried') === 1 ? q : undefined;
    });
    expect(after.workers_online).toBe(1);
    expect(after.oldest_pending_age_seconds).toBe(0);
    const minutes = after.throughput!.per_minute.map((m) => Date.parse(m.minute));
    expect(minutes, 'oldest first, one minute apart').toEqual(
      minutes.map((_, i) => minutes[0]! + i * 60_000),
    );
    expect(Date.now() - minutes.at(-1)!).toBeLessThan(60_000 + 1000);
  });
});
