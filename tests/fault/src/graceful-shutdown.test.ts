import { waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { report, setupFaultStack } from './harness/fault-stack.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('SIGTERM to a busy worker process', () => {
  it('finishes what fits in the grace period, hands the rest back, takes nothing new and exits 0; another worker completes everything once', async () => {
    const stack = await setupFaultStack(cleanups);
    const statusOf = async (id: string) => (await stack.queue.getStatus(id))?.status;
    const worker = stack.spawnWorker({ WORKER_CONCURRENCY: '3', WORKER_SHUTDOWN_GRACE: '1' });
    await stack.waitForWorkers([worker.pid]);

    // Three slots: one task that fits in the grace period, two that do not…
    const enqueue = (sleep_ms: number, priority: number) =>
      stack.queue.enqueue({ task_name: 'record_run', kwargs: { sleep_ms }, priority }).then((r) => r.taskId);
    const short = await enqueue(200, 1);
    const long = [await enqueue(4000, 1), await enqueue(4000, 1)];
    // …and a backlog that a slot freed during shutdown must not pick up.
    const backlog = await Promise.all(Array.from({ length: 5 }, () => enqueue(0, 10)));
    await waitFor('the three first tasks are running in the worker', async () => {
      const states = await Promise.all([short, ...long].map(statusOf));
      return states.every((s) => s === 'running');
    });

    const sentAt = Date.now();
    worker.kill('SIGTERM');
    const exit = await worker.exited;
    const shutdownMs = Date.now() - sentAt;
    expect(exit).toEqual({ code: 0, signal: null });

    expect(await stack.queue.getStatus(short)).toMatchObject({ status: 'completed', attempts: 1 });
    for (const id of long) {
      // Handed back untouched: waiting again, no attempt counted, so no retry is spent.
      expect(await stack.queue.getStatus(id)).toMatchObject({ status: 'pending', attempts: 0 });
    }
    expect(worker.output().join('\n')).toContain('handed running tasks back to the queue');
    const runsAfterShutdown = await stack.runs();
    for (const id of backlog) {
      expect(await statusOf(id)).toBe('pending');
      expect(runsAfterShutdown.has(id)).toBe(false);
    }

    // Nothing lost, nothing run twice: a new worker completes the rest, each exactly once.
    const next = stack.spawnWorker({ WORKER_CONCURRENCY: '10' });
    const all = [short, ...long, ...backlog];
    await waitFor(
      'every task is completed by the next worker',
      async () => (await Promise.all(all.map(statusOf))).every((s) => s === 'completed'),
      { timeoutMs: 30_000 },
    );
    const runs = await stack.runs();
    expect(all.map((id) => runs.get(id))).toEqual(all.map(() => 1));
    next.kill('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
    report('graceful-shutdown', { grace_s: 1, shutdown_ms: shutdownMs, handed_back: long.length });
  });
});
