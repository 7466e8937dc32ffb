import { defineTask, TaskApiError, TaskCatalog } from '@solar-tasks/contract';
import { testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedisConnection, type RedisClient } from './redis-connection.js';
import { TaskQueue } from './task-queue.js';

const echo = defineTask({ name: 'echo', description: 'echo', args: z.object({ text: z.string() }) });
const mail = defineTask({
  name: 'mail',
  description: 'mail',
  args: z.object({ to: z.email() }),
  queue: 'email',
});

const opened: { queue: TaskQueue; redis: RedisClient; prefix: string; workers: Worker[] }[] = [];

async function setup() {
  const prefix = uniquePrefix('list');
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  const queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog([echo, mail]) });
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

function validationField(err: unknown, code = 'BAD_REQUEST'): string | undefined {
  expect(err).toBeInstanceOf(TaskApiError);
  const e = err as TaskApiError;
  expect(e.code).toBe(code);
  return (e.details as { field: string }[])[0]?.field;
}

describe('TaskQueue.list', () => {
  it('pages through every task exactly once, across queues and states', async () => {
    const { queue, redis, workers } = await setup();
    const ids = new Set<string>();
    for (let i = 0; i < 45; i++)
      ids.add((await queue.enqueue({ task_name: 'echo', args: [`t${i}`] })).taskId);
    for (let i = 0; i < 12; i++)
      ids.add(
        (await queue.enqueue({ task_name: 'mail', kwargs: { to: `a${i}@x.io` }, countdown: 600 })).taskId,
      );
    // Run 20 echo tasks to completion (10 fail), so the walk crosses several states.
    let seen = 0;
    const worker = new Worker(
      'default',
      async () => {
        seen += 1;
        if (seen > 20) return new Promise(() => {}); // the rest stay active or waiting
        if (seen % 2) throw new UnrecoverableError('boom');
        return 'ok';
      },
      { connection: redis, prefix: queue.keys.queuePrefix('default'), concurrency: 1 },
    );
    workers.push(worker);
    await waitFor('20 echo tasks finished', async () => {
      const s = await queue.stats();
      return s.queues.default!.completed + s.queues.default!.failed === 20;
    });

    const listed: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await queue.list({ limit: 7, cursor });
      expect(page.tasks.length).toBeLessThanOrEqual(7);
      listed.push(...page.tasks.map((t) => t.task_id));
      cursor = page.next_cursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 100);
    expect(listed).toHaveLength(ids.size);
    expect(new Set(listed)).toEqual(ids);
  });

  it('filters by status and task name, newest finished first', async () => {
    const { queue, redis, workers } = await setup();
    for (let i = 0; i < 6; i++) await queue.enqueue({ task_name: 'echo', args: [`t${i}`] });
    await queue.enqueue({ task_name: 'mail', kwargs: { to: 'a@x.io' } });
    const worker = new Worker(
      'default',
      async (job) => {
        if (job.data.args.text === 't1') throw new UnrecoverableError('boom');
        return 'ok';
      },
      { connection: redis, prefix: queue.keys.queuePrefix('default'), concurrency: 1 },
    );
    workers.push(worker);
    await waitFor('echo queue drained', async () => (await queue.stats()).queues.default!.completed === 5);

    const completed = await queue.list({ status: 'completed' });
    expect(completed.tasks).toHaveLength(5);
    expect(completed.tasks.every((t) => t.status === 'completed' && t.result === 'ok')).toBe(true);
    const finished = completed.tasks.map((t) => t.finished_at!);
    expect([...finished].sort().reverse()).toEqual(finished);
    const failed = await queue.list({ status: 'failed' });
    expect(failed.tasks.map((t) => t.arguments)).toEqual([{ text: 't1' }]);
    const mails = await queue.list({ task_name: 'mail' });
    expect(mails.tasks.map((t) => [t.task_name, t.status])).toEqual([['mail', 'pending']]);
    expect(mails.next_cursor).toBeNull();
    expect((await queue.list({ status: 'running' })).tasks).toEqual([]);
  });

  it('rejects a malformed cursor, or one made for other filters, naming the cursor field', async () => {
    const { queue } = await setup();
    for (let i = 0; i < 3; i++) await queue.enqueue({ task_name: 'echo', args: [`t${i}`] });
    for (const bad of ['nope!', 'e30', Buffer.from('{"v":2}').toString('base64url')]) {
      expect(validationField(await queue.list({ cursor: bad }).catch((e) => e))).toBe('cursor');
    }
    const first = await queue.list({ limit: 1 });
    expect(first.next_cursor).not.toBeNull();
    const err = await queue.list({ limit: 1, cursor: first.next_cursor!, status: 'failed' }).catch((e) => e);
    expect(validationField(err)).toBe('cursor');
    expect(validationField(await queue.list({ limit: 501 }).catch((e) => e), 'VALIDATION_ERROR')).toBe(
      'limit',
    );
  });
});
