import { Writable } from 'node:stream';
import { createLogger } from '@solar-tasks/runtime';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueTask, type Stack, startStack } from './test-support/stack.js';

type Line = Record<string, unknown> & { msg: string; service: string };

/** A logger like production's (JSON lines, redaction), writing into `lines`. */
function capture(name: string, lines: Line[], level = 'info') {
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return createLogger({ name, level, destination });
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/**
 * One task's lines from one service, in order. The services are compared
 * apart: the worker may start (or discard) a task before the API has logged
 * its answer, so their interleaving is not fixed.
 */
function story(lines: Line[], taskId: string, service: 'api' | 'worker'): string[] {
  return lines.filter((l) => l.task_id === taskId && l.service === service).map((l) => l.msg);
}

describe('task logs', () => {
  it('carry task_id on every line of a task’s life, from enqueue in the API to its end in the worker', async () => {
    const lines: Line[] = [];
    stack = await startStack(testRedisUrl(), {
      apiLogger: capture('api', lines),
      // At debug, so each attempt's `task started` line is in the story too.
      workerLogger: capture('worker', lines, 'debug'),
    });
    const s = stack;
    const flaky = await enqueueTask(s, { task_name: 'flaky', kwargs: { fail_times: 1 }, retry_delay: 0.05 });
    const failing = await enqueueTask(s, { task_name: 'permanent_failure' });
    const later = await enqueueTask(s, { task_name: 'add_numbers', args: [1, 2], countdown: 60 });
    expect((await s.call('POST', `/api/tasks/${later}/cancel/`)).status).toBe(200);

    await waitFor('every task reached its end in the worker’s log', () =>
      [flaky, failing, later].every((id) =>
        lines.some(
          (l) =>
            l.task_id === id &&
            ['task completed', 'task failed', 'task cancelled'].includes(l.msg) &&
            l.service === 'worker',
        ),
      ),
    );

    expect(story(lines, flaky, 'api')).toEqual(['task enqueued']);
    expect(story(lines, flaky, 'worker')).toEqual([
      'task started',
      'task attempt failed; retry scheduled',
      'task started',
      'task completed',
    ]);
    expect(story(lines, failing, 'api')).toEqual(['task enqueued']);
    expect(story(lines, failing, 'worker')).toEqual(['task started', 'task failed']);
    expect(story(lines, later, 'api')).toEqual(['task enqueued', 'task cancelled']);
    expect(story(lines, later, 'worker')).toEqual(['task cancelled']);

    const worker = lines.filter((l) => l.service === 'worker' && l.task_id === flaky);
    expect(worker.map((l) => l.attempt)).toEqual([1, 1, 2, 2]);
    expect(worker.every((l) => l.task === 'flaky' && l.queue === 'default')).toBe(true);
    expect(worker.at(-1)).toMatchObject({ duration_ms: expect.any(Number) });
    // The API's lines tie the task to the request that made it.
    expect(lines.find((l) => l.task_id === flaky && l.service === 'api')).toMatchObject({
      reqId: expect.any(String),
      api_key: 'admin',
    });
    // No line names a task's id without carrying it as task_id.
    for (const id of [flaky, failing, later]) {
      const stray = lines.filter((l) => JSON.stringify(l).includes(id) && l.task_id !== id);
      expect(stray.map((l) => l.msg)).toEqual([]);
    }
  });
});
