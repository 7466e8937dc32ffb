import { waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { report, setupFaultStack } from './harness/fault-stack.js';
import type { Exit, ServiceProcess } from './harness/service-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MAX_STALLED = 2;

describe('a poison task that crashes its worker process', () => {
  it('is run again up to WORKER_MAX_STALLED_COUNT times, then failed with a clear reason, and the fleet settles', async () => {
    const stack = await setupFaultStack(cleanups);
    const env = {
      WORKER_CONCURRENCY: '4',
      WORKER_LOCK_DURATION_MS: '1500',
      WORKER_STALLED_INTERVAL_MS: '500',
      WORKER_MAX_STALLED_COUNT: String(MAX_STALLED),
    };
    // The harness is the supervisor (systemd, Kubernetes): it restarts any worker that exits.
    const crashes: Exit[] = [];
    let supervising = true;
    cleanups.push(async () => {
      supervising = false;
    });
    const supervise = (proc: ServiceProcess) =>
      void proc.exited.then((exit) => {
        if (!supervising) return;
        crashes.push(exit);
        supervise(stack.spawnWorker(env));
      });
    supervise(stack.spawnWorker(env));
    supervise(stack.spawnWorker(env));

    const enqueue = (task_name: string, kwargs: Record<string, unknown> = {}) =>
      stack.queue.enqueue({ task_name, kwargs }).then((r) => r.taskId);
    const started = Date.now();
    const poison = await enqueue('poison', { after_ms: 50 });
    const innocent = await Promise.all(Array.from({ length: 20 }, () => enqueue('record_run')));

    const failed = await waitFor(
      'the poison task is failed',
      async () => {
        const s = await stack.queue.getStatus(poison);
        return s?.status === 'failed' ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const failedAfterMs = Date.now() - started;
    expect(failed.error).toBe(
      `poison task: the worker running it died ${MAX_STALLED + 1} times (crash, kill, or an event loop ` +
        'blocked past the lock duration); failed after WORKER_MAX_STALLED_COUNT recoveries',
    );
    // Ran once, then once per recovery; each run took its worker down (exit 1, uncaught exception).
    expect((await stack.runs()).get(poison)).toBe(MAX_STALLED + 1);
    expect(crashes).toEqual(Array.from({ length: MAX_STALLED + 1 }, () => ({ code: 1, signal: null })));

    // No crash loop: the fleet keeps working and nothing else crashes.
    const later = await Promise.all(Array.from({ length: 20 }, () => enqueue('record_run')));
    await waitFor(
      'every other task is completed',
      async () => {
        const states = await Promise.all([...innocent, ...later].map((id) => stack.queue.getStatus(id)));
        return states.every((s) => s?.status === 'completed');
      },
      { timeoutMs: 30_000 },
    );
    expect(crashes).toHaveLength(MAX_STALLED + 1);
    expect(stack.processes.filter((p) => p.alive())).toHaveLength(2);
    report('poison-task', {
      max_stalled_count: MAX_STALLED,
      crashes: crashes.length,
      failed_after_ms: failedAfterMs,
    });
  });
});
