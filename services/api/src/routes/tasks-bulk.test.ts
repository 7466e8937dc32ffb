import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, type RedisClient, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { testTasks } from '@solar-tasks/worker/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../api-keys.js';
import { type App, buildApp } from '../app.js';

const KEY = 'bulk-key-0123456789abcdef';
const URL = '/api/tasks/enqueue-bulk/';

let app: App;
let queue: TaskQueue;
let redis: RedisClient;
let prefix: string;

beforeAll(async () => {
  prefix = uniquePrefix('bulk');
  redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'api');
  queue = new TaskQueue({
    connection: redis,
    prefix,
    catalog: new TaskCatalog([...builtinTasks, ...testTasks]),
  });
  await queue.waitUntilReady();
  app = await buildApp({
    queue,
    apiKeys: parseApiKeys(`bulk:${KEY}`, ''),
    logger: false,
    limits: { perKeyMax: 100_000, perIpMax: 100_000 },
    bulkBodyLimit: 512 * 1024,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  const left = await redis.keys(`${prefix}:*`);
  if (left.length) await redis.del(...left);
  redis.disconnect();
});

function post(payload: unknown) {
  return app.inject({
    method: 'POST',
    url: URL,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

/** Every task stored under this test's prefix, across queues. */
async function storedCount(): Promise<number> {
  let n = 0;
  for (const name of queue.queueNames()) {
    const c = await queue.bullQueue(name).getJobCounts();
    n += Object.values(c).reduce((a, b) => a + b, 0);
  }
  return n;
}

interface BulkAnswer {
  tasks: { task_id: string; task_name: string; status: string; created: boolean }[];
}

describe('POST /api/tasks/enqueue-bulk/', () => {
  it('queues every item across queues and answers their ids in order', async () => {
    const before = await storedCount();
    const res = await post({
      tasks: [
        { task_name: 'add_numbers', args: [1, 2] },
        { task_name: 'echo_email', kwargs: { text: 'hi' } },
        { task_name: 'record_label', kwargs: { label: 'later' }, countdown: 60 },
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    const { tasks } = res.json() as BulkAnswer;
    expect(tasks.map((t) => [t.task_name, t.status, t.created])).toEqual([
      ['add_numbers', 'pending', true],
      ['echo_email', 'pending', true],
      ['record_label', 'scheduled', true],
    ]);
    expect(new Set(tasks.map((t) => t.task_id)).size).toBe(3);
    expect(await storedCount()).toBe(before + 3);
    const status = await queue.getStatus(tasks[1]!.task_id);
    expect(status).toMatchObject({ queue: 'email', arguments: { text: 'hi' } });
  });

  it('accepts 1,000 tasks and refuses 1,001 by the tasks field', async () => {
    const before = await storedCount();
    const item = (i: number) => ({ task_name: 'add_numbers', args: [i, i] });
    const ok = await post({ tasks: Array.from({ length: 1000 }, (_, i) => item(i)) });
    expect(ok.statusCode, ok.body.slice(0, 200)).toBe(201);
    expect((ok.json() as BulkAnswer).tasks).toHaveLength(1000);
    expect(await storedCount()).toBe(before + 1000);
    const tooMany = await post({ tasks: Array.from({ length: 1001 }, (_, i) => item(i)) });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().error.details[0].field).toBe('tasks');
    expect(await storedCount()).toBe(before + 1000);
  });

  it('queues nothing when one item is bad, naming each bad field by its index', async () => {
    const before = await storedCount();
    const res = await post({
      tasks: [
        { task_name: 'add_numbers', args: [1, 2] },
        { task_name: 'add_numbers', args: [1, 2] },
        { task_name: 'add_numbers', args: [1, 2] },
        { task_name: 'send_email', kwargs: { to: 'not-an-address', subject: 's', text: 't' } },
        { task_name: 'no_such_task' },
        { task_name: 'record_label', kwargs: { label: 'x' }, countdown: 5, eta: '2030-01-01T00:00:00Z' },
      ],
    });
    expect(res.statusCode, res.body).toBe(422);
    const error = res.json().error as { code: string; details: { field: string; code: string }[] };
    expect(error.code).toBe('VALIDATION_ERROR');
    const fields = error.details.map((d) => d.field);
    expect(fields.some((f) => f.startsWith('tasks[3].kwargs.to'))).toBe(true);
    expect(fields).toContain('tasks[4].task_name');
    expect(fields.some((f) => f.startsWith('tasks[5].'))).toBe(true);
    expect(fields.some((f) => /^tasks\[[012]\]/.test(f))).toBe(false);
    expect(error.details.find((d) => d.field === 'tasks[4].task_name')?.code).toBe('UNKNOWN_TASK');
    expect(await storedCount()).toBe(before);
  });

  it('names schema errors of an item by its index too (the request shape)', async () => {
    const res = await post({
      tasks: [
        { task_name: 'add_numbers', args: [1, 2] },
        { task_name: 'add_numbers', priority: 99 },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toContain('tasks[1].priority');
    const empty = await post({ tasks: [] });
    expect(empty.statusCode).toBe(422);
    const notAList = await post({ tasks: { task_name: 'add_numbers' } });
    expect(notAList.statusCode).toBe(422);
  });

  it('honours idempotency keys per item: a retried request queues no duplicate', async () => {
    const before = await storedCount();
    const body = {
      tasks: [
        { task_name: 'add_numbers', args: [1, 1], idempotency_key: `${prefix}-a` },
        { task_name: 'add_numbers', args: [2, 2], idempotency_key: `${prefix}-b` },
        { task_name: 'add_numbers', args: [3, 3] },
      ],
    };
    const first = await post(body);
    expect(first.statusCode).toBe(201);
    const a = (first.json() as BulkAnswer).tasks;
    expect(a.map((t) => t.created)).toEqual([true, true, true]);
    const again = await post({ tasks: body.tasks.slice(0, 2) });
    expect(again.statusCode).toBe(200);
    const b = (again.json() as BulkAnswer).tasks;
    expect(b.map((t) => t.task_id)).toEqual([a[0]!.task_id, a[1]!.task_id]);
    expect(b.map((t) => t.created)).toEqual([false, false]);
    // Mixed: one seen key, one new item.
    const mixed = await post({ tasks: [body.tasks[0], { task_name: 'add_numbers', args: [4, 4] }] });
    expect(mixed.statusCode).toBe(201);
    expect((mixed.json() as BulkAnswer).tasks.map((t) => t.created)).toEqual([false, true]);
    expect(await storedCount()).toBe(before + 4);
  });

  it('refuses a key reused with other arguments (409) and a key repeated differently in one batch (422)', async () => {
    const key = `${prefix}-c`;
    expect(
      (await post({ tasks: [{ task_name: 'add_numbers', args: [1, 1], idempotency_key: key }] })).statusCode,
    ).toBe(201);
    const before = await storedCount();
    const conflict = await post({
      tasks: [
        { task_name: 'add_numbers', args: [5, 5] },
        { task_name: 'add_numbers', args: [9, 9], idempotency_key: key },
      ],
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.details.field).toBe('tasks[1].idempotency_key');
    const inBatch = await post({
      tasks: [
        { task_name: 'add_numbers', args: [1, 2], idempotency_key: `${prefix}-d` },
        { task_name: 'add_numbers', args: [3, 4], idempotency_key: `${prefix}-d` },
      ],
    });
    expect(inBatch.statusCode).toBe(422);
    expect(inBatch.json().error.details[0].field).toBe('tasks[1].idempotency_key');
    expect(await storedCount()).toBe(before);
    // The same key twice with the same task is one task.
    const same = await post({
      tasks: [
        { task_name: 'add_numbers', args: [1, 2], idempotency_key: `${prefix}-e` },
        { task_name: 'add_numbers', args: [1, 2], idempotency_key: `${prefix}-e` },
      ],
    });
    expect(same.statusCode).toBe(201);
    const t = (same.json() as BulkAnswer).tasks;
    expect(t[0]!.task_id).toBe(t[1]!.task_id);
    expect(t.map((x) => x.created)).toEqual([true, false]);
    expect(await storedCount()).toBe(before + 1);
  });

  it('has its own body limit (BULK_BODY_LIMIT), larger than the single enqueue’s', async () => {
    const big = {
      tasks: Array.from({ length: 200 }, () => ({ task_name: 'record_label', args: ['x'.repeat(1500)] })),
    };
    const payload = JSON.stringify(big);
    expect(payload.length).toBeGreaterThan(256 * 1024);
    expect((await post(payload)).statusCode).toBe(201);
    const tooBig = await post({ tasks: [{ task_name: 'record_label', args: ['x'.repeat(600 * 1024)] }] });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('needs the tasks:write scope', async () => {
    const res = await app.inject({
      method: 'POST',
      url: URL,
      payload: { tasks: [{ task_name: 'add_numbers' }] },
    });
    expect(res.statusCode).toBe(401);
  });
});
