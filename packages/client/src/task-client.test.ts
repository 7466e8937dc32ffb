import { randomUUID } from 'node:crypto';
import { READ_ONLY_KEY, type Stack, startStack } from '@solar-tasks/api/test-support';
import { freePort, testRedisUrl, waitFor } from '@solar-tasks/testing';
import { addNumbers, permanentFailure, recordLabel, sleepTask } from '@solar-tasks/worker/test-fixtures';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskConnectionError } from './errors/task-connection-error.js';
import { TaskRequestError } from './errors/task-request-error.js';
import { UnexpectedResponseError } from './errors/unexpected-response-error.js';
import { WaitTimeoutError } from './errors/wait-timeout-error.js';
import { createClient, type TaskClient } from './task-client.js';
import { type LossyProxy, type ProxyAction, startLossyProxy } from './test-support/lossy-proxy.js';

// One real API + worker (test tasks, own key prefix) for the file; every test
// works on its own task ids, so they do not see each other.
let stack: Stack;
let client: TaskClient;
beforeAll(async () => {
  stack = await startStack(testRedisUrl());
  client = createClient({ baseUrl: stack.baseUrl, apiKey: stack.key });
});
afterAll(() => stack?.close());

const proxies: LossyProxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});

/** A client that reaches the API through a proxy following `plan`, with fast repeats. */
async function throughProxy(plan: ProxyAction[], options: { autoIdempotencyKey?: boolean } = {}) {
  const proxy = await startLossyProxy(stack.baseUrl, plan);
  proxies.push(proxy);
  const viaProxy = createClient({ baseUrl: proxy.url, apiKey: stack.key, backoffMs: 5, ...options });
  return { proxy, client: viaProxy };
}

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

describe('enqueue, status and wait against the real API and worker', () => {
  it('sends a typed task’s arguments as kwargs and waits for the handler’s result', async () => {
    const { proxy, client: c } = await throughProxy([]);
    const queued = await c.enqueue(addNumbers, { a: 2, b: 40 });
    expect(queued).toMatchObject({ task_name: 'add_numbers', status: 'pending', created: true });
    const sent = JSON.parse(proxy.requests[0]!.body) as Record<string, unknown>;
    expect(sent).toMatchObject({ task_name: 'add_numbers', kwargs: { a: 2, b: 40 } });
    expect(sent).not.toHaveProperty('args');
    // Every enqueue carries a fresh idempotency key unless told otherwise.
    expect(sent.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);

    const done = await client.wait(queued.task_id, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ status: 'completed', result: { sum: 42 }, attempts: 1, error: null });
  });

  it('queues many tasks in one request with enqueueBulkRaw, each with an idempotency key', async () => {
    const { proxy, client: c } = await throughProxy([]);
    const queued = await c.enqueueBulkRaw([
      { task_name: 'add_numbers', args: [1, 2] },
      { task_name: 'add_numbers', kwargs: { a: 3, b: 4 } },
    ]);
    expect(queued.map((t) => [t.task_name, t.created])).toEqual([
      ['add_numbers', true],
      ['add_numbers', true],
    ]);
    const sent = JSON.parse(proxy.requests[0]!.body) as { tasks: { idempotency_key?: string }[] };
    expect(sent.tasks.every((t) => /^[0-9a-f-]{36}$/.test(t.idempotency_key ?? ''))).toBe(true);
    const done = await client.wait(queued[1]!.task_id, { timeoutMs: 10_000 });
    expect(done.result).toEqual({ sum: 7 });
    const bad = await rejection(
      c.enqueueBulkRaw([
        { task_name: 'add_numbers', args: [1, 2] },
        { task_name: 'add_numbers', args: ['x', 2] },
      ]),
    );
    expect(bad).toBeInstanceOf(TaskRequestError);
    expect((bad as TaskRequestError).code).toBe('VALIDATION_ERROR');
  });

  it('binds the seed’s positional args and kwargs through enqueueRaw', async () => {
    const queued = await client.enqueueRaw({ task_name: 'add_numbers', args: [2], kwargs: { b: 40 } });
    expect((await client.wait(queued.task_id)).result).toEqual({ sum: 42 });
  });

  it('sends priority, retry policy and scheduling, and the status reports them', async () => {
    const quick = await client.enqueue(
      recordLabel,
      { label: 'urgent' },
      { priority: 1, max_retries: 0, retry_delay: 2 },
    );
    expect(await client.status(quick.task_id)).toMatchObject({ priority: 1, max_retries: 0, retry_delay: 2 });

    const eta = new Date(Date.now() + 3_600_000);
    const later = await client.enqueue(recordLabel, { label: 'later' }, { eta, priority: 9 });
    expect(later.status).toBe('scheduled');
    const status = await client.status(later.task_id);
    expect(status).toMatchObject({ status: 'scheduled', priority: 9 });
    expect(Math.abs(Date.parse(status.scheduled_for!) - eta.getTime())).toBeLessThan(1_000);

    const counted = await client.enqueue(recordLabel, { label: 'countdown' }, { countdown: 60 });
    const st = await client.status(counted.task_id);
    expect(Date.parse(st.scheduled_for!) - Date.now()).toBeGreaterThan(50_000);
    await client.cancel(later.task_id);
    await client.cancel(counted.task_id);
  });

  it('returns the same task for a repeated idempotency key, with created false', async () => {
    const key = `crm-quote-${randomUUID()}`;
    const first = await client.enqueue(addNumbers, { a: 1, b: 1 }, { idempotency_key: key });
    const again = await client.enqueue(addNumbers, { a: 1, b: 1 }, { idempotency_key: key });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ task_id: first.task_id, created: false });
  });

  it('returns a failed task from wait() instead of throwing', async () => {
    const queued = await client.enqueue(permanentFailure, {});
    expect(await client.wait(queued.task_id)).toMatchObject({
      status: 'failed',
      error: 'recipient rejected',
      attempts: 1,
    });
  });

  it('gives up waiting with WaitTimeoutError and the last status, leaving the task alone', async () => {
    const queued = await client.enqueue(sleepTask, { ms: 10_000 });
    const err = await rejection(client.wait(queued.task_id, { timeoutMs: 150, intervalMs: 20 }));
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(['pending', 'running']).toContain((err as WaitTimeoutError).lastStatus.status);
    expect((await client.cancel(queued.task_id)).status).toBe('cancelled');
  });
});

describe('list and queueStatus', () => {
  it('lists the task types with their parameter order and defaults', async () => {
    const tasks = await client.list();
    expect(tasks.find((t) => t.name === 'add_numbers')).toMatchObject({
      parameters: ['a', 'b'],
      defaults: { priority: 5, max_retries: 3, retry_delay: 60 },
    });
  });

  it('reports counts per queue and lifetime totals per task name', async () => {
    await client.wait((await client.enqueue(addNumbers, { a: 0, b: 0 })).task_id);
    const stats = await waitFor('the completed count is flushed', async () => {
      const st = await client.queueStatus();
      return (st.tasks.add_numbers?.completed ?? 0) > 0 ? st : undefined;
    });
    expect(stats.queues.default).toMatchObject({ paused: false });
    expect(stats.totals.completed).toBeGreaterThan(0);
  });
});

describe('cancel and retry', () => {
  it('cancels a scheduled task, and refuses to cancel a completed one with TASK_NOT_CANCELLABLE', async () => {
    const later = await client.enqueue(addNumbers, { a: 1, b: 2 }, { countdown: 60 });
    expect(await client.cancel(later.task_id)).toMatchObject({ task_id: later.task_id, status: 'cancelled' });

    const done = await client.enqueue(addNumbers, { a: 1, b: 2 });
    await client.wait(done.task_id);
    const err = await rejection(client.cancel(done.task_id));
    expect(err).toBeInstanceOf(TaskRequestError);
    expect(err).toMatchObject({ code: 'TASK_NOT_CANCELLABLE', httpStatus: 409, status: 409 });
  });

  it('retries a failed task from scratch, and refuses to retry a pending one with TASK_NOT_RETRYABLE', async () => {
    const failed = await client.enqueue(permanentFailure, {});
    await client.wait(failed.task_id);
    await client.retry(failed.task_id);
    await waitFor('the handler ran a second time', () =>
      stack.runs.filter((r) => r.taskId === failed.task_id).length === 2 ? true : undefined,
    );
    expect(await client.wait(failed.task_id)).toMatchObject({ status: 'failed', attempts: 1 });

    const later = await client.enqueue(addNumbers, { a: 1, b: 2 }, { countdown: 60 });
    const err = await rejection(client.retry(later.task_id));
    expect(err).toMatchObject({ code: 'TASK_NOT_RETRYABLE', details: { status: 'scheduled' } });
    await client.cancel(later.task_id);
  });
});

describe('errors carry the API’s code and the fields it named', () => {
  it('INVALID_ARGUMENTS names the argument that does not fit the contract', async () => {
    // The cast stands for a caller outside TypeScript's reach (the type test proves the compiler refuses it).
    const err = await rejection(client.enqueue(addNumbers, { a: 'two', b: 40 } as never));
    expect(err).toBeInstanceOf(TaskRequestError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENTS', httpStatus: 422, fields: ['kwargs.a'] });
  });

  it('UNKNOWN_TASK names task_name and lists the known tasks; too many positional args name args[2]', async () => {
    const unknown = await rejection(client.enqueueRaw({ task_name: 'no_such_task' }));
    expect(unknown).toMatchObject({ code: 'UNKNOWN_TASK', httpStatus: 400, fields: ['task_name'] });
    expect((unknown as TaskRequestError).details).toMatchObject({
      known: expect.arrayContaining(['add_numbers']),
    });

    const extra = await rejection(client.enqueueRaw({ task_name: 'add_numbers', args: [1, 2, 3] }));
    expect(extra).toMatchObject({ code: 'INVALID_ARGUMENTS', fields: ['args[2]'] });
  });

  it('VALIDATION_ERROR names an out-of-range priority', async () => {
    const err = await rejection(client.enqueue(addNumbers, { a: 1, b: 2 }, { priority: 11 }));
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', httpStatus: 422, fields: ['priority'] });
  });

  it('UNAUTHORIZED for an unknown key, FORBIDDEN for a read-only key that enqueues', async () => {
    const stranger = createClient({ baseUrl: stack.baseUrl, apiKey: 'not-a-configured-key-123' });
    expect(await rejection(stranger.list())).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
    const reader = createClient({ baseUrl: stack.baseUrl, apiKey: READ_ONLY_KEY });
    expect((await reader.list()).length).toBeGreaterThan(0);
    const err = await rejection(reader.enqueue(addNumbers, { a: 1, b: 2 }));
    expect(err).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });
    expect((err as TaskRequestError).requestId).toMatch(/./);
  });

  it('TASK_NOT_FOUND for an unknown id, INVALID_TASK_ID for a malformed one', async () => {
    expect(await rejection(client.status(randomUUID()))).toMatchObject({
      code: 'TASK_NOT_FOUND',
      httpStatus: 404,
    });
    expect(await rejection(client.status('not-a-task-id'))).toMatchObject({ code: 'INVALID_TASK_ID' });
    await expect(client.status('..')).rejects.toThrow(TypeError);
  });
});

describe('lost answers and outages', () => {
  it('repeats an enqueue whose answer was lost and gets the first task back: one task, not two', async () => {
    const { proxy, client: c } = await throughProxy(['drop']);
    const queued = await c.enqueue(addNumbers, { a: 20, b: 22 });
    expect(proxy.requests.map((r) => r.action)).toEqual(['drop', 'forward']);
    const [lost, repeat] = proxy.requests;
    // The first POST did queue a task; the repeat (same generated key) got that task, not a new one.
    expect(lost!.upstreamStatus).toBe(201);
    expect(repeat!.upstreamStatus).toBe(200);
    expect(JSON.parse(repeat!.body).idempotency_key).toBe(JSON.parse(lost!.body).idempotency_key);
    expect(queued).toMatchObject({ task_id: JSON.parse(lost!.upstreamBody!).task_id, created: false });
    expect((await client.wait(queued.task_id)).result).toEqual({ sum: 42 });
  });

  it('sends an enqueue without an idempotency key once, and reports the lost answer', async () => {
    const { proxy, client: c } = await throughProxy(['drop'], { autoIdempotencyKey: false });
    const err = await rejection(c.enqueue(addNumbers, { a: 1, b: 2 }));
    expect(err).toBeInstanceOf(TaskConnectionError);
    expect((err as TaskConnectionError).attempts).toBe(1);
    expect(proxy.requests).toHaveLength(1);
    expect(JSON.parse(proxy.requests[0]!.body)).not.toHaveProperty('idempotency_key');
  });

  it('repeats reads through 503 QUEUE_UNAVAILABLE answers, but sends a retry() once', async () => {
    const { proxy, client: c } = await throughProxy(['unavailable', 'unavailable']);
    const queued = await client.enqueue(addNumbers, { a: 1, b: 2 });
    expect((await c.status(queued.task_id)).task_id).toBe(queued.task_id);
    expect(proxy.requests.map((r) => r.action)).toEqual(['unavailable', 'unavailable', 'forward']);

    const once = await throughProxy(['unavailable']);
    const err = await rejection(once.client.retry(queued.task_id));
    expect(err).toMatchObject({ code: 'QUEUE_UNAVAILABLE', httpStatus: 503 });
    expect(once.proxy.requests).toHaveLength(1);
  });

  it('throws TaskConnectionError after its attempts when nothing listens', async () => {
    const port = await freePort();
    const c = createClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: stack.key,
      maxAttempts: 3,
      backoffMs: 1,
    });
    const err = await rejection(c.status(randomUUID()));
    expect(err).toBeInstanceOf(TaskConnectionError);
    expect(err).toMatchObject({ attempts: 3 });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('throws UnexpectedResponseError for an answer outside the contract (a proxy’s HTML page)', async () => {
    const { client: c } = await throughProxy(['html', 'html', 'html', 'html']);
    const err = await rejection(c.list());
    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err).toMatchObject({ httpStatus: 502 });
    expect((err as UnexpectedResponseError).bodyExcerpt).toContain('Bad Gateway');
  });
});

describe('createClient checks its options at once', () => {
  it('refuses a relative or non-http base URL and an empty or spaced key, never echoing the key', () => {
    expect(() => createClient({ baseUrl: 'tasks.internal', apiKey: 'k'.repeat(20) })).toThrow(/baseUrl/);
    expect(() => createClient({ baseUrl: 'ftp://tasks.internal', apiKey: 'k'.repeat(20) })).toThrow(/http/);
    expect(() => createClient({ baseUrl: 'http://x', apiKey: '' })).toThrow(/apiKey/);
    expect(() => createClient({ baseUrl: 'http://user:pw@x', apiKey: 'k'.repeat(20) })).toThrow(
      /credentials/,
    );
    const secret = 'secret with space';
    expect(() => createClient({ baseUrl: 'http://x', apiKey: secret })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secret) }),
    );
    expect(() => createClient({ baseUrl: 'http://x', apiKey: 'k'.repeat(20), maxAttempts: 0 })).toThrow(
      /maxAttempts/,
    );
  });
});
