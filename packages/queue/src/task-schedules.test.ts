import { defineTask, TaskCatalog, taskIdSchema } from '@solar-tasks/contract';
import { testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { type Job, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedisConnection, type RedisClient } from './redis-connection.js';
import { TaskQueue } from './task-queue.js';
import { listSchedules, parseSchedules, ScheduleConfigError, syncSchedules } from './task-schedules.js';

const report = defineTask({
  name: 'report',
  description: 'report',
  args: z.object({ kind: z.enum(['daily', 'weekly']), to: z.email().optional() }),
  queue: 'reports',
});
const ping = defineTask({ name: 'ping', description: 'ping', args: z.object({}) });

const opened: { queue: TaskQueue; redis: RedisClient; prefix: string; workers: Worker[] }[] = [];

async function setup(prefix = uniquePrefix('sched')) {
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  const queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog([report, ping]) });
  await queue.waitUntilReady();
  const bundle = { queue, redis, prefix, workers: [] as Worker[] };
  opened.push(bundle);
  return bundle;
}

afterEach(async () => {
  const bundles = opened.splice(0);
  for (const { workers } of bundles) await Promise.all(workers.map((w) => w.close(true)));
  for (const { queue, redis, prefix } of bundles) {
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
});

function configError(fn: () => unknown): ScheduleConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScheduleConfigError) return err;
    throw err;
  }
  throw new Error('expected a ScheduleConfigError');
}

describe('schedules', () => {
  it('parses YAML and JSON, binding args like an enqueue', async () => {
    const { queue } = await setup();
    const yaml = parseSchedules(
      'schedules:\n  - name: daily-report\n    task: report\n    args: [daily]\n    cron: "0 6 * * *"\n    tz: Australia/Sydney\n    priority: 3\n',
      queue,
    );
    expect(yaml).toMatchObject([
      { name: 'daily-report', task: 'report', args: ['daily'], tz: 'Australia/Sydney' },
    ]);
    const json = parseSchedules('[{"name":"p","task":"ping","every":60}]', queue);
    expect(json).toMatchObject([{ name: 'p', every: 60, tz: 'UTC' }]);
  });

  it('names the entry and the field of every mistake', async () => {
    const { queue } = await setup();
    const err = configError(() =>
      parseSchedules(
        JSON.stringify([
          { name: 'a', task: 'nope', every: 5 },
          { name: 'b', task: 'report', kwargs: { kind: 'hourly' }, every: 5 },
          { name: 'c', task: 'ping', cron: '61 * * * *' },
          { name: 'd', task: 'ping', cron: '* * * * *', tz: 'Mars/Base' },
          { name: 'e', task: 'ping' },
          { name: 'Bad Name', task: 'ping', every: 5 },
          { name: 'a', task: 'ping', every: 5, extra: 1 },
          { name: 'g', task: 'ping', every: 5, priority: 11 },
        ]),
        queue,
      ),
    );
    expect(err.issues.map((i) => [i.entry, i.field])).toEqual([
      ['schedules[0] (a)', 'task'],
      ['schedules[1] (b)', 'kwargs.kind'],
      ['schedules[2] (c)', 'cron'],
      ['schedules[3] (d)', 'tz'],
      ['schedules[4] (e)', 'cron'],
      ['schedules[5] (Bad Name)', 'name'],
      ['schedules[6] (a)', '(entry)'],
      ['schedules[7] (g)', 'priority'],
    ]);
    expect(err.message).toContain('schedules[1] (b): kwargs.kind:');
    expect(configError(() => parseSchedules('{ nope', queue)).message).toMatch(/not valid YAML/);
    expect(
      configError(() =>
        parseSchedules('[{"name":"x","task":"ping","every":5},{"name":"x","task":"ping","every":9}]', queue),
      ).issues,
    ).toEqual([{ entry: 'schedules[1] (x)', field: 'name', message: 'duplicate schedule name "x"' }]);
  });

  it('upserts schedules into Redis and removes the ones no longer in the file', async () => {
    const { queue } = await setup();
    const v1 = parseSchedules(
      '[{"name":"daily","task":"report","kwargs":{"kind":"daily"},"cron":"0 6 * * *","tz":"Europe/Berlin","priority":2},{"name":"tick","task":"ping","every":3600}]',
      queue,
    );
    expect(await syncSchedules(queue, v1)).toEqual({ upserted: ['daily', 'tick'], removed: [] });
    const listed = await listSchedules(queue);
    expect(listed.map((s) => [s.name, s.task_name, s.queue, s.cron, s.tz, s.every_ms])).toEqual(
      expect.arrayContaining([
        ['daily', 'report', 'reports', '0 6 * * *', 'Europe/Berlin', null],
        ['tick', 'ping', 'default', null, null, 3_600_000],
      ]),
    );
    expect(listed.find((s) => s.name === 'daily')).toMatchObject({
      priority: 2,
      arguments: { kind: 'daily' },
    });
    expect(new Date(listed.find((s) => s.name === 'daily')!.next_run_at!).getTime()).toBeGreaterThan(
      Date.now(),
    );

    const v2 = parseSchedules('[{"name":"tick","task":"ping","every":60}]', queue);
    expect(await syncSchedules(queue, v2)).toEqual({ upserted: ['tick'], removed: ['daily'] });
    expect((await listSchedules(queue)).map((s) => [s.name, s.every_ms])).toEqual([['tick', 60_000]]);
  });

  it('runs each slot exactly once with two worker replicas upserting the same schedule', async () => {
    const a = await setup();
    const b = await setup(a.prefix);
    const entries = parseSchedules('[{"name":"tick","task":"ping","every":1}]', a.queue);
    // Both replicas upsert at start, as workers do.
    await Promise.all([syncSchedules(a.queue, entries), syncSchedules(b.queue, entries)]);
    const runs: { id: string; replica: string }[] = [];
    for (const [replica, bundle] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const w = new Worker(
        'default',
        async (job: Job) => {
          runs.push({ id: job.id!, replica });
        },
        { connection: bundle.redis, prefix: bundle.queue.keys.queuePrefix('default'), concurrency: 5 },
      );
      bundle.workers.push(w);
    }
    // Upserting again while running must not add a slot either.
    await syncSchedules(b.queue, entries);
    await waitFor('4 scheduled runs', () => runs.length >= 4, { timeoutMs: 15_000 });
    const ids = runs.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const slots = ids.map((id) => Number(id.split(':')[2]));
    for (const id of ids) expect(taskIdSchema.safeParse(id).success).toBe(true);
    expect(new Set(slots).size).toBe(slots.length);
    // A scheduled run is visible through the normal status lookup.
    const status = await a.queue.getStatus(ids[0]!);
    expect(status).toMatchObject({ task_name: 'ping', status: 'completed' });
  });
});
