import type { TaskStatusResponse } from '@solar-tasks/contract';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueTask, READ_ONLY_KEY, type Stack, startStack } from '../test-support/stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function statusOf(s: Stack, id: string): Promise<TaskStatusResponse> {
  return (await (await s.call('GET', `/api/tasks/status/${id}/`)).json()) as TaskStatusResponse;
}

describe('POST /api/tasks/<id>/cancel/ and /retry/', () => {
  it('cancels a scheduled task (200 with its status), and cancelling again changes nothing', async () => {
    stack = await startStack(testRedisUrl());
    const id = await enqueueTask(stack, { task_name: 'add_numbers', args: [1, 2], countdown: 60 });
    const res = await stack.call('POST', `/api/tasks/${id}/cancel/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ task_id: id, status: 'cancelled' });
    const again = await stack.call('POST', `/api/tasks/${id}/cancel`);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'cancelled' });
  });

  it('answers 409 TASK_NOT_CANCELLABLE for a completed task and 409 TASK_NOT_RETRYABLE for a pending one', async () => {
    stack = await startStack(testRedisUrl());
    const s = stack;
    const done = await enqueueTask(s, { task_name: 'add_numbers', args: [1, 2] });
    await waitFor(`task ${done} completed`, async () => (await statusOf(s, done)).status === 'completed');
    const cancel = await s.call('POST', `/api/tasks/${done}/cancel/`);
    expect(cancel.status).toBe(409);
    expect(await cancel.json()).toMatchObject({ error: { code: 'TASK_NOT_CANCELLABLE' } });

    const retry = await s.call('POST', `/api/tasks/${done}/retry/`);
    expect(retry.status).toBe(409);
    expect(await retry.json()).toMatchObject({
      error: { code: 'TASK_NOT_RETRYABLE', details: { status: 'completed' } },
    });
  });

  it('retries a failed task from scratch: it runs again and fails again', async () => {
    stack = await startStack(testRedisUrl());
    const s = stack;
    const id = await enqueueTask(s, { task_name: 'permanent_failure' });
    await waitFor(`task ${id} failed`, async () => (await statusOf(s, id)).status === 'failed');
    const res = await s.call('POST', `/api/tasks/${id}/retry/`);
    expect(res.status).toBe(200);
    expect(['pending', 'running', 'failed']).toContain(((await res.json()) as TaskStatusResponse).status);
    await waitFor('the handler ran a second time', () => s.runs.filter((r) => r.taskId === id).length === 2);
    await waitFor(`task ${id} failed again`, async () => (await statusOf(s, id)).status === 'failed');
  });

  it('answers 404 for an unknown id, 400 for a malformed one, 401 without a key and 403 for a read-only key', async () => {
    stack = await startStack(testRedisUrl(), { startWorker: false });
    const unknown = '00000000-0000-4000-8000-000000000000';
    const notFound = await stack.call('POST', `/api/tasks/${unknown}/retry/`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { code: 'TASK_NOT_FOUND' } });

    const malformed = await stack.call('POST', '/api/tasks/not-a-task-id/cancel/');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'INVALID_TASK_ID' } });

    const id = await enqueueTask(stack, { task_name: 'add_numbers', args: [1, 2] });
    const anonymous = await fetch(`${stack.baseUrl}/api/tasks/${id}/cancel/`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const readOnly = await stack.call('POST', `/api/tasks/${id}/cancel/`, undefined, {
      authorization: `Bearer ${READ_ONLY_KEY}`,
    });
    expect(readOnly.status).toBe(403);
    expect(await readOnly.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await statusOf(stack, id)).status).toBe('pending');
  });
});
