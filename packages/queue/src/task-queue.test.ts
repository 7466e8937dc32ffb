import { defineTask, TaskApiError, TaskCatalog } from '@solar-tasks/contract';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedisConnection, type RedisClient } from './redis-connection.js';
import { TaskQueue } from './task-queue.js';

const echo = defineTask({
  name: 'echo',
  description: 'echo',
  args: z.object({ text: z.string(), n: z.int().optional() }),
});
const mail = defineTask({
  name: 'mail',
  description: 'mail',
  args: z.object({ to: z.email() }),
  queue: 'email',
  defaults: { priority: 2 },
});

interface Bundle {
  queue: TaskQueue;
  redis: RedisClient;
  prefix: string;
}
const opened: Bundle[] = [];

async function setup(options: { waitReplicas?: number; waitTimeoutMs?: number } = {}): Promise<Bundle> {
  const prefix = uniquePrefix('tq');
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'api');
  const queue = new TaskQueue({
    connection: redis,
    prefix,
    catalog: new TaskCatalog([echo, mail]),
    countersFlushMs: 50,
    ...options,
  });
  await queue.waitUntilReady();
  const bundle = { queue, redis, prefix };
  opened.push(bundle);
  return bundle;
}

afterEach(async () => {
  for (const { queue, redis, prefix } of opened.splice(0)) {
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
});

function apiError(fn: () => unknown): TaskApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TaskApiError) return err;
    throw err;
  }
  throw new Error('expected a TaskApiError');
}

describe('TaskQueue', () => {
  it('answers QUEUE_UNAVAILABLE when replicas do not confirm an enqueue, and again for its idempotent retry', async () => {
    // The test Redis has no replicas: WAIT 1 times out with 0.
    const { queue } = await setup({ waitReplicas: 1, waitTimeoutMs: 20 });
    const attempt = () => queue.enqueue({ task_name: 'echo', args: ['hi'], idempotency_key: 'unreplicated' });
    const first = await attempt().catch((err: unknown) => err);
    expect(first).toBeInstanceOf(TaskApiError);
    expect(first).toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      details: { replicas_confirmed: 0, replicas_required: 1 },
    });
    const taskId = (first as TaskApiError).details as { task_id: string };
    // The task exists on the master; a retry finds it but is not acknowledged either.
    expect((await queue.getStatus(taskId.task_id))?.status).toBe('pending');
    await expect(attempt()).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
  });

  it('keeps each queue under its own hash tag, so a Cluster holds it in one slot', async () => {
    const { queue, redis, prefix } = await setup();
    const { taskId } = await queue.enqueue({ task_name: 'mail', args: ['ann@example.com'] });
    expect(queue.bullQueue('email').keys.wait).toBe(`${prefix}:{email}:email:wait`);
    expect(await redis.exists(`${prefix}:{email}:email:${taskId}`)).toBe(1);
  });

  it('queues a task as pending with the resolved retry policy and priority', async () => {
    const { queue } = await setup();
    const r = await queue.enqueue({ task_name: 'echo', args: ['hi'], max_retries: 4, retry_delay: 2 });
    expect(r).toMatchObject({ taskName: 'echo', status: 'pending', created: true });
    const s = await queue.getStatus(r.taskId);
    expect(s).toMatchObject({
      task_id: r.taskId,
      task_name: 'echo',
      queue: 'default',
      status: 'pending',
      priority: 5,
      arguments: { text: 'hi' },
      attempts: 0,
      max_retries: 4,
      retry_delay: 2,
      result: null,
      error: null,
      next_retry_at: null,
    });
    expect(Date.parse(s!.created_at!)).toBeGreaterThan(Date.now() - 5000);
  });

  it('puts each task on its contract’s queue with its default priority', async () => {
    const { queue } = await setup();
    const r = await queue.enqueue({ task_name: 'mail', kwargs: { to: 'a@example.com' } });
    expect(await queue.getStatus(r.taskId)).toMatchObject({ queue: 'email', priority: 2 });
  });

  it('reports a countdown task as scheduled with its due time', async () => {
    const { queue } = await setup();
    const before = Date.now();
    const r = await queue.enqueue({ task_name: 'echo', args: ['later'], countdown: 60 });
    expect(r.status).toBe('scheduled');
    const s = await queue.getStatus(r.taskId);
    expect(s?.status).toBe('scheduled');
    const due = Date.parse(s!.scheduled_for!);
    expect(due).toBeGreaterThanOrEqual(before + 60_000);
    expect(due).toBeLessThan(before + 62_000);
  });

  it('rejects an unknown task, listing the known ones, and writes nothing', async () => {
    const { queue, redis, prefix } = await setup();
    const err = apiError(() => queue.prepare({ task_name: 'nope' }));
    expect(err.code).toBe('UNKNOWN_TASK');
    expect(err.details).toMatchObject({ known: ['echo', 'mail'] });
    await expect(queue.enqueue({ task_name: 'nope' })).rejects.toThrow(TaskApiError);
    expect(await redis.keys(`${prefix}:*:id`)).toEqual([]);
  });

  it('rejects bad arguments naming the field', async () => {
    const { queue } = await setup();
    const err = apiError(() => queue.prepare({ task_name: 'echo', args: [1] }));
    expect(err.code).toBe('INVALID_ARGUMENTS');
    expect(err.details).toMatchObject([{ field: 'args[0]' }]);
  });

  it('rejects arguments over the size limit', async () => {
    const { queue } = await setup();
    const err = apiError(() => queue.prepare({ task_name: 'echo', args: ['x'.repeat(70_000)] }));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('returns the same task for a repeated idempotency key and queues it once', async () => {
    const { queue } = await setup();
    const a = await queue.enqueue({ task_name: 'echo', args: ['once'], idempotency_key: 'order-42' });
    const b = await queue.enqueue({ task_name: 'echo', args: ['once'], idempotency_key: 'order-42' });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ taskId: a.taskId, created: false, status: 'pending' });
    expect((await queue.stats()).queues.default?.pending).toBe(1);
  });

  it('refuses an idempotency key reused for other arguments or another task', async () => {
    const { queue } = await setup();
    await queue.enqueue({ task_name: 'echo', args: ['one'], idempotency_key: 'k1' });
    await expect(
      queue.enqueue({ task_name: 'echo', args: ['two'], idempotency_key: 'k1' }),
    ).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
    await expect(
      queue.enqueue({ task_name: 'mail', kwargs: { to: 'a@example.com' }, idempotency_key: 'k1' }),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
  });

  it('answers undefined for an unknown id and rejects a malformed one before Redis', async () => {
    const { queue } = await setup();
    expect(await queue.getStatus('7d7f4f5e-8f43-4c52-9a3d-5b2f4b0f9a11')).toBeUndefined();
    await expect(queue.getStatus('../../etc')).rejects.toMatchObject({ code: 'INVALID_TASK_ID' });
  });

  it('cancels a pending task, idempotently, and can retry it afterwards', async () => {
    const { queue } = await setup();
    const { taskId } = await queue.enqueue({ task_name: 'echo', args: ['x'] });
    expect(await queue.cancel(taskId)).toMatchObject({
      status: 'cancelled',
      error: 'cancelled: cancelled by user',
    });
    expect((await queue.cancel(taskId)).status).toBe('cancelled');
    expect((await queue.retry(taskId)).status).toBe('pending');
  });

  it('refuses to retry a task that has not failed', async () => {
    const { queue } = await setup();
    const { taskId } = await queue.enqueue({ task_name: 'echo', args: ['x'] });
    await expect(queue.retry(taskId)).rejects.toMatchObject({ code: 'TASK_NOT_RETRYABLE' });
  });

  it('counts by queue and status, and totals by task name', async () => {
    const { queue } = await setup();
    await queue.enqueue({ task_name: 'echo', args: ['a'] });
    await queue.enqueue({ task_name: 'echo', args: ['b'], countdown: 30 });
    await queue.enqueue({ task_name: 'mail', args: ['m@example.com'] });
    await queue.counters.flush();
    const stats = await queue.stats();
    expect(stats.queues).toMatchObject({
      default: { pending: 1, scheduled: 1, running: 0, completed: 0, failed: 0, paused: false },
      email: { pending: 1, scheduled: 0, running: 0, completed: 0, failed: 0, paused: false },
    });
    expect(Object.keys(stats.queues)).toEqual(['default', 'email']);
    // No worker runs here; nothing has finished.
    expect(stats.workers_online).toBe(0);
    expect(stats.throughput?.per_minute).toHaveLength(15);
    expect(stats.throughput?.per_minute.every((m) => m.completed === 0 && m.failed === 0)).toBe(true);
    expect(stats.totals).toEqual({ pending: 2, scheduled: 1, running: 0, completed: 0, failed: 0 });
    expect(stats.tasks.echo).toMatchObject({ enqueued: 2 });
    expect(stats.tasks.mail).toMatchObject({ enqueued: 1, completed: 0 });
  });
});
