import type { ScheduleListResponse, TaskPageResponse } from '@solar-tasks/contract';
import { parseSchedules, syncSchedules } from '@solar-tasks/queue';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { READ_ONLY_KEY, type Stack, startStack } from '../test-support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function page(s: Stack, query: string): Promise<TaskPageResponse> {
  const res = await s.call('GET', `/api/tasks/?${query}`, undefined, {
    authorization: `Bearer ${READ_ONLY_KEY}`,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as TaskPageResponse;
}

describe('GET /api/tasks/', () => {
  it('pages through every task exactly once with a read-only key, and filters by status and task name', async () => {
    stack = await startStack(testRedisUrl());
    const s = stack;
    const ids = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const res = await s.call('POST', '/api/tasks/enqueue/', { task_name: 'add_numbers', args: [i, 1] });
      ids.add(((await res.json()) as { task_id: string }).task_id);
    }
    const failing = await s.call('POST', '/api/tasks/enqueue/', { task_name: 'permanent_failure' });
    const failedId = ((await failing.json()) as { task_id: string }).task_id;
    ids.add(failedId);
    await waitFor('all ten finished', async () => {
      const q = (await (await s.call('GET', '/api/tasks/queue-status/')).json()) as {
        totals: { completed: number; failed: number };
      };
      return q.totals.completed === 9 && q.totals.failed === 1;
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: TaskPageResponse = await page(
        s,
        `limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(p.tasks.length).toBeLessThanOrEqual(3);
      seen.push(...p.tasks.map((t) => t.task_id));
      cursor = p.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());

    const failed = await page(s, 'status=failed');
    expect(failed.tasks.map((t) => [t.task_id, t.status])).toEqual([[failedId, 'failed']]);
    const adds = await page(s, 'task_name=add_numbers&status=completed&limit=500');
    expect(adds.tasks).toHaveLength(9);
    expect(adds.tasks.map((t) => (t.result as { sum: number }).sum).sort()).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect((await page(s, 'task_name=nope')).tasks).toEqual([]);
  });

  it('answers 422 naming a bad limit, status or unknown parameter, and 400 naming a cursor it did not issue', async () => {
    stack = await startStack(testRedisUrl());
    const cases: [string, number, string, string][] = [
      ['limit=0', 422, 'VALIDATION_ERROR', 'limit'],
      ['limit=501', 422, 'VALIDATION_ERROR', 'limit'],
      ['limit=ten', 422, 'VALIDATION_ERROR', 'limit'],
      ['status=done', 422, 'VALIDATION_ERROR', 'status'],
      ['sort=asc', 422, 'VALIDATION_ERROR', 'sort'],
      ['cursor=%21%21', 400, 'BAD_REQUEST', 'cursor'],
      [`cursor=${Buffer.from('{"v":1}').toString('base64url')}`, 400, 'BAD_REQUEST', 'cursor'],
    ];
    for (const [query, status, code, field] of cases) {
      const res = await stack.call('GET', `/api/tasks/?${query}`);
      expect(res.status, query).toBe(status);
      const body = (await res.json()) as { error: { code: string; details: { field: string }[] } };
      expect(body.error.code, query).toBe(code);
      expect(body.error.details[0]?.field, query).toBe(field);
    }
    // A cursor made for other filters.
    for (let i = 0; i < 2; i++)
      await stack.call('POST', '/api/tasks/enqueue/', {
        task_name: 'add_numbers',
        args: [i, 1],
        countdown: 60,
      });
    const first = await page(stack, 'limit=1');
    const other = await stack.call('GET', `/api/tasks/?status=failed&cursor=${first.next_cursor}`);
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ error: { details: [{ field: 'cursor' }] } });
  });
});

describe('GET /api/schedules/', () => {
  it('lists the schedules the workers upserted, and a scheduled run is readable by its id', async () => {
    stack = await startStack(testRedisUrl());
    const s = stack;
    const empty = await s.call('GET', '/api/schedules/', undefined, {
      authorization: `Bearer ${READ_ONLY_KEY}`,
    });
    expect(await empty.json()).toEqual({ schedules: [] });

    const entries = parseSchedules(
      'schedules:\n  - name: tick\n    task: add_numbers\n    args: [2, 3]\n    every: 1\n  - name: nightly\n    task: add_numbers\n    kwargs: { a: 1, b: 1 }\n    cron: "0 2 * * *"\n    tz: Australia/Sydney\n',
      s.queue,
    );
    await syncSchedules(s.queue, entries);
    const res = await s.call('GET', '/api/schedules/');
    expect(res.status).toBe(200);
    const body = (await res.json()) as ScheduleListResponse;
    expect(body.schedules.map((x) => [x.name, x.task_name, x.cron, x.tz, x.every_ms])).toEqual(
      expect.arrayContaining([
        ['tick', 'add_numbers', null, null, 1000],
        ['nightly', 'add_numbers', '0 2 * * *', 'Australia/Sydney', null],
      ]),
    );
    expect(body.schedules.find((x) => x.name === 'tick')?.arguments).toEqual({ a: 2, b: 3 });

    const run = await waitFor('a scheduled run completed', () =>
      s.runs.find((r) => r.taskId.startsWith('repeat:tick:')),
    );
    const status = await s.call('GET', `/api/tasks/status/${run.taskId}/`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ task_id: run.taskId, task_name: 'add_numbers' });
  });
});
