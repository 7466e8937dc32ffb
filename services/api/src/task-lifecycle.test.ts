import type { TaskStatusResponse } from '@solar-tasks/contract';
import { nextEvent, testRedisUrl, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueTask, type Stack, startStack } from './test-support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function status(s: Stack, id: string): Promise<TaskStatusResponse> {
  const res = await s.call('GET', `/api/tasks/status/${id}/`);
  expect(res.status).toBe(200);
  return (await res.json()) as TaskStatusResponse;
}

function untilStatus(s: Stack, id: string, wanted: string, timeoutMs = 10_000) {
  return waitFor(
    `task ${id} is ${wanted}`,
    async () => {
      const st = await status(s, id);
      return st.status === wanted ? st : undefined;
    },
    { timeoutMs },
  );
}

describe('enqueue → process → status over HTTP', () => {
  it('runs a task and reports pending, running, then completed with its result', async () => {
    stack = await startStack(testRedisUrl(), { startWorker: false });
    const id = await enqueueTask(stack, { task_name: 'sleep_ms', kwargs: { ms: 300 } });
    expect((await status(stack, id)).status).toBe('pending');
    const started = nextEvent(stack.worker, 'task:started');
    await stack.worker.start();
    await started;
    expect((await status(stack, id)).status).toBe('running');
    const done = await untilStatus(stack, id, 'completed');
    expect(done).toMatchObject({ result: { slept: 300 }, attempts: 1, error: null, next_retry_at: null });
    expect(Date.parse(done.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at!));
  });

  it('binds positional args and kwargs like the seed and returns the handler’s result', async () => {
    stack = await startStack(testRedisUrl());
    const id = await enqueueTask(stack, { task_name: 'add_numbers', args: [2], kwargs: { b: 40 } });
    expect((await untilStatus(stack, id, 'completed')).result).toEqual({ sum: 42 });
  });

  it('runs priorities 1 before 5 before 10, first-in first-out within a priority', async () => {
    stack = await startStack(testRedisUrl(), { startWorker: false, concurrency: 1 });
    const plan = [
      ['p10-a', 10],
      ['p5-a', 5],
      ['p1-a', 1],
      ['p10-b', 10],
      ['p5-b', 5],
      ['p1-b', 1],
    ] as const;
    for (const [label, priority] of plan)
      await enqueueTask(stack, { task_name: 'record_label', args: [label], priority });
    await stack.worker.start();
    const s = stack;
    await waitFor('all six tasks ran', () => s.runs.length === 6);
    expect(stack.runs.map((r) => r.label)).toEqual(['p1-a', 'p1-b', 'p5-a', 'p5-b', 'p10-a', 'p10-b']);
  });

  it('retries a failing task with exponential backoff, showing retrying, then completes on attempt 3', async () => {
    stack = await startStack(testRedisUrl());
    const id = await enqueueTask(stack, { task_name: 'flaky', args: [2], max_retries: 3, retry_delay: 0.3 });
    const retrying = await untilStatus(stack, id, 'retrying');
    expect(retrying.error).toBe('flaky failure 1');
    expect(Date.parse(retrying.next_retry_at!)).toBeGreaterThan(Date.now() - 100);
    const done = await untilStatus(stack, id, 'completed');
    expect(done).toMatchObject({ attempts: 3, result: { succeeded_on: 3 }, max_retries: 3 });
    const starts = stack.runs.filter((r) => r.taskId === id).map((r) => r.startedAt);
    expect(starts).toHaveLength(3);
    const [g1, g2] = [starts[1]! - starts[0]!, starts[2]! - starts[1]!];
    expect(g1).toBeGreaterThanOrEqual(290);
    expect(g2).toBeGreaterThanOrEqual(590);
    expect(g2).toBeGreaterThan(g1 * 1.5);
  });

  it('marks a task failed with its error once max_retries is used up', async () => {
    stack = await startStack(testRedisUrl());
    const id = await enqueueTask(stack, {
      task_name: 'flaky',
      args: [10],
      max_retries: 2,
      retry_delay: 0.05,
    });
    const failed = await untilStatus(stack, id, 'failed');
    expect(failed).toMatchObject({ attempts: 3, error: 'flaky failure 3', max_retries: 2 });
    expect(failed.finished_at).not.toBeNull();
  });

  it('fails at once, without retrying, on PermanentTaskError', async () => {
    stack = await startStack(testRedisUrl());
    const id = await enqueueTask(stack, {
      task_name: 'permanent_failure',
      max_retries: 5,
      retry_delay: 0.05,
    });
    const failed = await untilStatus(stack, id, 'failed');
    expect(failed).toMatchObject({ attempts: 1, error: 'recipient rejected' });
    expect(stack.runs.filter((r) => r.taskId === id)).toHaveLength(1);
  });

  it('stops a handler that never returns at its timeout, retries it by policy, and never blocks the other slots', async () => {
    stack = await startStack(testRedisUrl(), { concurrency: 2 });
    const id = await enqueueTask(stack, { task_name: 'hang' });
    await untilStatus(stack, id, 'running');
    // The other slot keeps working while the handler hangs.
    const quick = await enqueueTask(stack, { task_name: 'add_numbers', args: [1, 1] });
    await untilStatus(stack, quick, 'completed', 2000);
    expect(await status(stack, id)).toMatchObject({ status: 'running', attempts: 0 });
    // Each attempt is stopped at the task's 1 s timeout; max_retries 1 → two attempts, then failed.
    const failed = await untilStatus(stack, id, 'failed');
    expect(failed).toMatchObject({ attempts: 2, error: 'timed out after 1 s' });
    expect(stack.runs.filter((r) => r.taskId === id)).toHaveLength(2);
    // The hung handler's promise never settles, yet its slot is free: two tasks run side by side.
    const pair = [
      await enqueueTask(stack, { task_name: 'sleep_ms', args: [400] }),
      await enqueueTask(stack, { task_name: 'sleep_ms', args: [400] }),
    ];
    await waitFor('both slots run at once', async () => {
      const states = await Promise.all(pair.map((p) => status(stack!, p)));
      return states.every((s) => s.status === 'running');
    });
    for (const p of pair) await untilStatus(stack, p, 'completed');
  });

  it('holds a countdown task as scheduled and runs it no earlier than asked', async () => {
    stack = await startStack(testRedisUrl());
    const before = Date.now();
    const id = await enqueueTask(stack, { task_name: 'add_numbers', args: [1, 2], countdown: 0.8 });
    const scheduled = await status(stack, id);
    expect(scheduled.status).toBe('scheduled');
    expect(Date.parse(scheduled.scheduled_for!)).toBeGreaterThanOrEqual(before + 800);
    await untilStatus(stack, id, 'completed');
    expect(stack.runs.find((r) => r.taskId === id)!.startedAt).toBeGreaterThanOrEqual(before + 800);
  });

  it('honours an eta in the future', async () => {
    stack = await startStack(testRedisUrl());
    const eta = new Date(Date.now() + 700).toISOString();
    const id = await enqueueTask(stack, { task_name: 'add_numbers', args: [1, 2], eta });
    expect((await status(stack, id)).status).toBe('scheduled');
    await untilStatus(stack, id, 'completed');
    expect(stack.runs.find((r) => r.taskId === id)!.startedAt).toBeGreaterThanOrEqual(Date.parse(eta));
  });

  it('returns the same id for a repeated idempotency key and runs the task once', async () => {
    stack = await startStack(testRedisUrl());
    const body = { task_name: 'add_numbers', args: [3, 4], idempotency_key: 'invoice-7' };
    const first = await stack.call('POST', '/api/tasks/enqueue/', body);
    expect(first.status).toBe(201);
    const { task_id } = (await first.json()) as { task_id: string };
    await untilStatus(stack, task_id, 'completed');
    const again = await stack.call(
      'POST',
      '/api/tasks/enqueue',
      { task_name: 'add_numbers', args: [3, 4] },
      {
        'idempotency-key': 'invoice-7',
      },
    );
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ task_id, task_name: 'add_numbers', status: 'completed' });
    expect(stack.runs.filter((r) => r.taskId === task_id)).toHaveLength(1);
  });

  it('answers 422 naming the Idempotency-Key header when it is longer than 255, and queues nothing', async () => {
    stack = await startStack(testRedisUrl());
    const body = { task_name: 'add_numbers', args: [1, 1] };
    const long = await stack.call('POST', '/api/tasks/enqueue/', body, {
      'idempotency-key': 'k'.repeat(256),
    });
    expect(long.status).toBe(422);
    expect(await long.json()).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: [{ field: 'idempotency-key', code: 'too_big' }] },
    });
    const edge = await stack.call('POST', '/api/tasks/enqueue/', body, {
      'idempotency-key': 'k'.repeat(255),
    });
    expect(edge.status).toBe(201);
    // Only the second request stored a task (the lifetime counters are flushed once a second: count jobs).
    let stored = 0;
    for (const name of stack.queue.queueNames()) {
      const counts = await stack.queue.bullQueue(name).getJobCounts();
      stored += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    expect(stored).toBe(1);
  });

  it('answers 400 for an unknown task, listing the known ones', async () => {
    stack = await startStack(testRedisUrl());
    const res = await stack.call('POST', '/api/tasks/enqueue/', { task_name: 'launch_rocket' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { known: string[] } } };
    expect(body.error.code).toBe('UNKNOWN_TASK');
    expect(body.error.details.known).toContain('add_numbers');
  });

  it('answers 422 naming the field for bad args or bad envelope fields', async () => {
    stack = await startStack(testRedisUrl());
    const bad = await stack.call('POST', '/api/tasks/enqueue/', {
      task_name: 'add_numbers',
      args: ['two', 2],
    });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({
      error: { code: 'INVALID_ARGUMENTS', details: [{ field: 'args[0]' }] },
    });
    const prio = await stack.call('POST', '/api/tasks/enqueue/', {
      task_name: 'add_numbers',
      args: [1, 2],
      priority: 11,
    });
    expect(prio.status).toBe(422);
    expect(await prio.json()).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: [{ field: 'priority' }] },
    });
    const both = await stack.call('POST', '/api/tasks/enqueue/', {
      task_name: 'add_numbers',
      args: [1, 2],
      countdown: 1,
      eta: new Date().toISOString(),
    });
    expect(await both.json()).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: [{ field: 'countdown' }] },
    });
    const extra = await stack.call('POST', '/api/tasks/enqueue/', {
      task_name: 'add_numbers',
      args: [1, 2],
      priorty: 1,
    });
    expect(extra.status).toBe(422);
  });

  it('answers 404 for an unknown id and 400 for one that is not a task id', async () => {
    stack = await startStack(testRedisUrl());
    const missing = await stack.call('GET', '/api/tasks/status/2b5cf1a0-6c8e-4f0e-9d0b-0d3c2a3b4c5d/');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'TASK_NOT_FOUND' } });
    const malformed = await stack.call('GET', '/api/tasks/status/not-a-task/');
    expect(malformed.status).toBe(400);
  });

  it('lists task types with descriptions, defaults and JSON schemas, and reports queue status', async () => {
    stack = await startStack(testRedisUrl());
    const list = (await (await stack.call('GET', '/api/tasks/list')).json()) as {
      tasks: { name: string; parameters: string[]; args_schema: { properties: object } }[];
    };
    const add = list.tasks.find((t) => t.name === 'add_numbers')!;
    expect(add).toMatchObject({
      parameters: ['a', 'b'],
      defaults: { priority: 5, max_retries: 3, retry_delay: 60 },
    });
    expect(Object.keys(add.args_schema.properties)).toEqual(['a', 'b']);
    const id = await enqueueTask(stack, { task_name: 'add_numbers', args: [1, 1] });
    await untilStatus(stack, id, 'completed');
    await stack.workerQueue.counters.flush();
    const qs = (await (await stack.call('GET', '/api/tasks/queue-status/')).json()) as {
      queues: Record<string, { completed: number }>;
      tasks: Record<string, { enqueued: number; completed: number }>;
    };
    expect(qs.queues.default?.completed).toBe(1);
    await waitFor('totals are flushed', async () => {
      const q = (await (await stack!.call('GET', '/api/tasks/queue-status/')).json()) as typeof qs;
      return q.tasks.add_numbers?.enqueued === 1 && q.tasks.add_numbers.completed === 1;
    });
  });

  it('publishes OpenAPI with each task’s argument schema', async () => {
    stack = await startStack(testRedisUrl());
    const doc = (await (await fetch(`${stack.baseUrl}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/tasks/enqueue/');
    expect(doc.components.schemas.add_numbers_args).toMatchObject({ properties: { a: { type: 'number' } } });
    expect((await fetch(`${stack.baseUrl}/docs`)).status).toBe(200);
  });

  it('requires an API key with the right scope', async () => {
    stack = await startStack(testRedisUrl());
    const none = await fetch(`${stack.baseUrl}/api/tasks/list/`);
    expect(none.status).toBe(401);
    const wrong = await stack.call('GET', '/api/tasks/list/', undefined, {
      authorization: 'Bearer nope-nope-nope-nope',
    });
    expect(wrong.status).toBe(401);
    const reader = await stack.call(
      'POST',
      '/api/tasks/enqueue/',
      { task_name: 'add_numbers', args: [1, 2] },
      {
        authorization: 'Bearer read-only-key-0123456789',
      },
    );
    expect(reader.status).toBe(403);
    expect(
      (
        await stack.call('GET', '/api/tasks/list/', undefined, {
          'x-api-key': 'read-only-key-0123456789',
          authorization: '',
        })
      ).status,
    ).toBe(200);
  });
});

describe('hostile bodies', () => {
  it('answers 400 or 415 with a clear code, and queues nothing', async () => {
    stack = await startStack(testRedisUrl(), { startWorker: false });
    const post = (body: string | Uint8Array, type = 'application/json') =>
      fetch(`${stack!.baseUrl}/api/tasks/enqueue/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack!.key}`, 'content-type': type },
        body,
      });
    const cases: [string | Uint8Array, string, number, string][] = [
      ['{"task_name":', 'application/json', 400, 'INVALID_JSON'],
      [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'application/json', 400, 'INVALID_JSON'],
      ['{"task_name":"add_numbers","__proto__":{"x":1}}', 'application/json', 400, 'INVALID_JSON'],
      [new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'application/json', 400, 'INVALID_JSON'],
      ['task_name=add_numbers', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['{"task_name":"add_numbers","args":[1,2]}', 'application/xml', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        JSON.stringify({ task_name: 'add_numbers', args: ['x'.repeat(300 * 1024), 2] }),
        'application/json',
        413,
        'PAYLOAD_TOO_LARGE',
      ],
    ];
    for (const [body, type, code, errorCode] of cases) {
      const res = await post(body, type);
      expect(res.status, `${type} ${String(body).slice(0, 40)}`).toBe(code);
      expect(await res.json()).toMatchObject({ error: { code: errorCode } });
    }
    expect((await stack.queue.stats()).totals.pending).toBe(0);
  });
});
