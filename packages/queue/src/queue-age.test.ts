import { defineTask, TaskCatalog } from '@solar-tasks/contract';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { oldestPendingAgeSeconds } from './queue-age.js';
import { createRedisConnection, type RedisClient } from './redis-connection.js';
import { TaskQueue } from './task-queue.js';

const addNumbers = defineTask({
  name: 'add_numbers',
  description: 'Adds two numbers',
  args: z.object({ a: z.number(), b: z.number() }),
});
const sendMail = defineTask({ name: 'send_mail', description: 'Mails', args: z.object({}), queue: 'email' });

let done: (() => Promise<void>) | undefined;
afterEach(async () => {
  await done?.();
  done = undefined;
});

async function setup() {
  const prefix = uniquePrefix('age');
  const redis: RedisClient = createRedisConnection({ url: testRedisUrl(), prefix }, 'api');
  const queue = new TaskQueue({
    connection: redis,
    prefix,
    catalog: new TaskCatalog([addNumbers, sendMail]),
  });
  await queue.waitUntilReady();
  done = async () => {
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  };
  return { redis, queue };
}

describe('oldestPendingAgeSeconds', () => {
  it('is 0 for an empty queue', async () => {
    const { redis, queue } = await setup();
    expect(await oldestPendingAgeSeconds(redis, queue.bullQueue('default'))).toBe(0);
  });

  it('finds the oldest ready task across priorities, and counts a scheduled one only once it is due', async () => {
    const { redis, queue } = await setup();
    const t0 = Date.now();
    // The oldest task has the lowest priority: it is neither the head of the queue nor of the first band.
    await queue.enqueue({ task_name: 'add_numbers', args: [1, 2], priority: 9 });
    await queue.enqueue({ task_name: 'add_numbers', args: [1, 2], priority: 1 });
    await queue.enqueue({ task_name: 'add_numbers', args: [1, 2], countdown: 60 });
    const bull = queue.bullQueue('default');
    const age = await oldestPendingAgeSeconds(redis, bull, t0 + 10_000);
    expect(age).toBeGreaterThan(9.5);
    expect(age).toBeLessThanOrEqual(10);
    const stats = await queue.stats(t0 + 10_000);
    expect(stats.queues.default?.oldest_pending_age_seconds).toBeCloseTo(age, 2);
    expect(stats.oldest_pending_age_seconds).toBeCloseTo(age, 2);
    expect(stats.queues.email?.oldest_pending_age_seconds).toBe(0);
  });
});
