import { defineTask, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { nextEvent, testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TaskTimeoutError } from './errors/task-timeout-error.js';
import { type TaskContext, TaskRegistry } from './task-registry.js';
import { TaskWorker } from './task-worker.js';
import { testRegistry } from './test-fixtures/test-tasks.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A queue with one task taken by a worker that then vanishes: a bare BullMQ
 * worker fetches it (lock of 1 s) and never renews or finishes it, as if its
 * process had been killed. (The fault suite does the same with real SIGKILLs.)
 */
async function setupVanishedTask() {
  const prefix = uniquePrefix('stall');
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  const { registry, catalog, runs } = testRegistry();
  const queue = new TaskQueue({ connection: redis, prefix, catalog });
  await queue.waitUntilReady();
  cleanups.push(async () => {
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  const { taskId } = await queue.enqueue({ task_name: 'add_numbers', args: [2, 3] });
  const ghost = new Worker('default', null, {
    connection: redis,
    prefix: queue.keys.queuePrefix('default'),
    lockDuration: 1000,
    autorun: false,
  });
  const taken = await ghost.getNextJob('ghost-token');
  expect(taken?.id).toBe(taskId);
  await ghost.close(true);
  expect((await queue.getStatus(taskId))?.status).toBe('running');

  const startWorker = async (maxStalledCount: number) => {
    const worker = new TaskWorker({
      queue,
      connection: redis,
      registry,
      logger: pino({ level: 'silent' }),
      lockDurationMs: 1000,
      stalledIntervalMs: 300,
      maxStalledCount,
    });
    cleanups.push(() => worker.close(0).then(() => {}));
    await worker.start();
    return worker;
  };
  return { queue, taskId, runs, startWorker };
}

describe('TaskWorker and BullMQ stalled-task recovery', () => {
  it('runs a task again once the lock of the worker that vanished with it expires', async () => {
    const { queue, taskId, runs, startWorker } = await setupVanishedTask();
    const worker = await startWorker(1);
    const [done] = await nextEvent(
      worker,
      'task:completed',
      (info: { taskId: string }) => info.taskId === taskId,
    );
    expect(done).toMatchObject({ taskName: 'add_numbers' });
    expect(await queue.getStatus(taskId)).toMatchObject({ status: 'completed', result: { sum: 5 } });
    expect(runs.filter((r) => r.taskId === taskId)).toHaveLength(1);
  });

  it('fails a task as poison, with a reason naming the cause and the setting, once it stalls more than maxStalledCount times', async () => {
    const { queue, taskId, runs, startWorker } = await setupVanishedTask();
    const worker = await startWorker(0);
    const [failed] = await nextEvent(
      worker,
      'task:failed',
      (info: { taskId: string }) => info.taskId === taskId,
    );
    const reason =
      'poison task: the worker running it died once (crash, kill, or an event loop blocked past the ' +
      'lock duration); failed after WORKER_MAX_STALLED_COUNT recoveries';
    expect(failed).toMatchObject({ willRetry: false, error: reason });
    await waitFor(
      'the status shows the reason',
      async () => (await queue.getStatus(taskId))?.error === reason,
    );
    expect(runs).toHaveLength(0);
  });
});

describe('TaskWorker: what a handler gets', () => {
  it('passes ids, attempt and queue, a logger whose lines carry the task, and a signal aborted at the timeout', async () => {
    const prefix = uniquePrefix('context');
    const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
    const waits = defineTask({
      name: 'waits_for_abort',
      description: 'Resolves once its signal aborts (a 1 s timeout)',
      args: z.object({ n: z.int() }),
      defaults: { timeout: 1, maxRetries: 0 },
    });
    const quick = defineTask({ name: 'sync_quick', description: 'Returns at once', args: z.object({}) });
    const catalog = new TaskCatalog([waits, quick]);
    const queue = new TaskQueue({ connection: redis, prefix, catalog });
    await queue.waitUntilReady();
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const seen: { ctx: TaskContext; aborted: unknown }[] = [];
    const registry = new TaskRegistry()
      .register(waits, (args, ctx) => {
        ctx.logger.info({ n: args.n }, 'waiting');
        return new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            seen.push({ ctx, aborted: ctx.signal.reason });
            resolve(null);
          });
        });
      })
      .register(quick, () => 'done');
    const worker = new TaskWorker({ queue, connection: redis, registry, logger });
    cleanups.push(async () => {
      await worker.close(0);
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
    await worker.start();

    const sync = await queue.enqueue({ task_name: 'sync_quick' });
    const { taskId } = await queue.enqueue({ task_name: 'waits_for_abort', kwargs: { n: 7 } });
    await waitFor(
      'the timed-out task fails',
      async () => (await queue.getStatus(taskId))?.status === 'failed',
    );
    expect(await queue.getStatus(taskId)).toMatchObject({ error: 'timed out after 1 s', attempts: 1 });
    expect((await queue.getStatus(sync.taskId))?.result).toBe('done');

    const [{ ctx, aborted }] = seen as [(typeof seen)[number]];
    expect(ctx).toMatchObject({ taskId, taskName: 'waits_for_abort', attempt: 1, maxRetries: 0, queue });
    expect(aborted).toBeInstanceOf(TaskTimeoutError);
    expect(ctx.signal.aborted).toBe(true);
    // The handler's own line carries the task's fields, from the child logger made on first use.
    expect(lines.find((l) => l.msg === 'waiting')).toMatchObject({
      n: 7,
      task_id: taskId,
      task: 'waits_for_abort',
      queue: 'default',
      attempt: 1,
    });
    expect(worker.activeTaskIds()).toEqual([]);
  });
});
