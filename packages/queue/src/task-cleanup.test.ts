import { defineTask, TaskCatalog } from '@solar-tasks/contract';
import { testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedisConnection, type RedisClient } from './redis-connection.js';
import { TaskQueue } from './task-queue.js';

const echo = defineTask({ name: 'echo', description: 'echo', args: z.object({ text: z.string() }) });

const opened: { queue: TaskQueue; redis: RedisClient; prefix: string; workers: Worker[] }[] = [];

async function setup() {
  const prefix = uniquePrefix('clean');
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  const queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog([echo]) });
  await queue.waitUntilReady();
  const bundle = { queue, redis, prefix, workers: [] as Worker[] };
  opened.push(bundle);
  return bundle;
}

afterEach(async () => {
  for (const { queue, redis, prefix, workers } of opened.splice(0)) {
    await Promise.all(workers.map((w) => w.close(true)));
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
});

/** 30 finished tasks (20 completed, 10 failed: 5 by error, 5 cancelled before running), 3 still pending. */
async function finishedTasks(b: Awaited<ReturnType<typeof setup>>) {
  const { queue, redis, workers } = b;
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) ids.push((await queue.enqueue({ task_name: 'echo', args: [`t${i}`] })).taskId);
  for (const id of ids.slice(25)) await queue.cancel(id);
  const worker = new Worker(
    'default',
    async (job) => {
      if (job.data.cancelled) throw new UnrecoverableError('cancelled');
      if (Number(job.data.args.text.slice(1)) >= 20) throw new UnrecoverableError('boom');
      return 'ok';
    },
    { connection: redis, prefix: queue.keys.queuePrefix('default'), concurrency: 10 },
  );
  workers.push(worker);
  await waitFor('30 tasks finished', async () => {
    const c = (await queue.stats()).queues.default!;
    return c.completed === 20 && c.failed === 10;
  });
  await worker.close();
  const pending: string[] = [];
  for (let i = 0; i < 3; i++) pending.push((await queue.enqueue({ task_name: 'echo', args: ['p'] })).taskId);
  return { ids, pending };
}

describe('TaskQueue.cleanup', () => {
  it('counts in a dry run, then removes old finished tasks in batches, and a second run removes nothing', async () => {
    const b = await setup();
    const { queue, redis, prefix } = b;
    const { ids, pending } = await finishedTasks(b);
    // Nothing finished more than a day ago.
    expect((await queue.cleanup({ olderThanDays: 1 })).removed).toBe(0);

    await new Promise((r) => setTimeout(r, 5)); // finish times strictly before the cutoff
    const dry = await queue.cleanup({ olderThanDays: 0, dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      removed: 30,
      queues: { default: { completed: 20, failed: 10 } },
    });
    expect((await queue.stats()).queues.default).toMatchObject({ completed: 20, failed: 10 });

    const progress: number[] = [];
    const failedOnly = await queue.cleanup({
      olderThanDays: 0,
      status: 'failed',
      batchSize: 3,
      onProgress: (p) => progress.push(p.removed),
    });
    expect(failedOnly.removed).toBe(10); // the cancelled ones are stored as failed and go with them
    expect(progress).toEqual([0, 3, 6, 9, 10]);
    const all = await queue.cleanup({ olderThanDays: 0, batchSize: 7 });
    expect(all.queues.default).toEqual({ completed: 20, failed: 0 });
    expect((await queue.cleanup({ olderThanDays: 0 })).removed).toBe(0);

    for (const id of ids) expect(await queue.getStatus(id)).toBeUndefined();
    for (const id of pending) expect((await queue.getStatus(id))?.status).toBe('pending');
    // No job hash or log of a removed task is left behind.
    for (const id of ids)
      expect(await redis.exists(`${queue.keys.queuePrefix('default')}:default:${id}`)).toBe(0);
    expect((await redis.keys(`${prefix}:*`)).filter((k) => ids.some((id) => k.includes(id)))).toEqual([]);
  });

  it('lets an idempotency key be used again once its task is cleaned up', async () => {
    const b = await setup();
    const { queue, redis, workers } = b;
    const first = await queue.enqueue({ task_name: 'echo', args: ['a'], idempotency_key: 'k1' });
    workers.push(
      new Worker('default', async () => 'ok', {
        connection: redis,
        prefix: queue.keys.queuePrefix('default'),
      }),
    );
    await waitFor(
      'task completed',
      async () => (await queue.getStatus(first.taskId))?.status === 'completed',
    );
    await new Promise((r) => setTimeout(r, 5));
    await queue.cleanup({ olderThanDays: 0 });
    const again = await queue.enqueue({ task_name: 'echo', args: ['b'], idempotency_key: 'k1' });
    expect(again).toMatchObject({ taskId: first.taskId, created: true });
  });

  it('rejects bad options naming them', async () => {
    const { queue } = await setup();
    await expect(queue.cleanup({ olderThanDays: -1 })).rejects.toThrow(/olderThanDays/);
    await expect(queue.cleanup({ olderThanDays: 1, batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(queue.cleanup({ olderThanDays: 1, status: 'done' as 'all' })).rejects.toThrow(/status/);
  });
});
