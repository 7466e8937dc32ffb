import { createRedisConnection } from '@solar-tasks/queue';
import { waitFor } from '@solar-tasks/testing';
import { QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { pause, report, setupFaultStack, summarize } from './harness/fault-stack.js';
import type { ServiceProcess } from './harness/service-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TASKS = 2000;
const WORKERS = 3;
/** Short on purpose (production default: 30 s each): recovery ≈ lock duration + up to 2 stalled intervals. */
const LOCK_MS = 2000;
const STALLED_MS = 1000;
const KILL_EVERY_MS = 2500;
const MAX_KILLS = 12;

describe('SIGKILL of worker processes', () => {
  it('completes every one of 2,000 tasks while a random worker of three is killed every few seconds', async () => {
    const stack = await setupFaultStack(cleanups);
    const bull = stack.queue.bullQueue('default');
    const workerEnv = {
      WORKER_CONCURRENCY: '10',
      WORKER_LOCK_DURATION_MS: String(LOCK_MS),
      WORKER_STALLED_INTERVAL_MS: String(STALLED_MS),
      WORKER_MAX_STALLED_COUNT: '2',
    };

    // BullMQ's own record of each recovery: a `stalled` event, stamped by Redis.
    const eventsConnection = createRedisConnection({ url: stack.url, prefix: stack.prefix }, 'worker');
    const events = new QueueEvents('default', {
      connection: eventsConnection,
      prefix: stack.queue.keys.queuePrefix('default'),
    });
    cleanups.push(async () => {
      await events.close();
      eventsConnection.disconnect();
    });
    const stalledAt = new Map<string, number[]>();
    events.on('stalled', ({ jobId }, id) => {
      stalledAt.set(jobId, [...(stalledAt.get(jobId) ?? []), Number(id.split('-')[0])]);
    });
    await events.waitUntilReady();

    const ids: string[] = [];
    for (let i = 0; i < TASKS; i += 200) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(200, TASKS - i) }, () =>
          stack.queue.enqueue({ task_name: 'record_run', kwargs: { sleep_ms: 150 } }),
        ),
      );
      ids.push(...batch.map((r) => r.taskId));
    }

    const started = Date.now();
    let live: ServiceProcess[] = Array.from({ length: WORKERS }, () => stack.spawnWorker(workerEnv));
    const kills: { at: number; pid: number; inFlight: string[] }[] = [];
    let finished = false;
    // The harness plays chaos monkey and supervisor: kill one at random, start a replacement.
    const chaos = (async () => {
      while (!finished && kills.length < MAX_KILLS) {
        await pause(KILL_EVERY_MS);
        if (finished) break;
        const victim = live[Math.floor(Math.random() * live.length)]!;
        const inFlight = (await bull.getJobs(['active']))
          .filter((job) => job.processedBy === `solar-worker-${victim.pid}`)
          .map((job) => job.id!);
        victim.kill('SIGKILL');
        kills.push({ at: Date.now(), pid: victim.pid, inFlight });
        const exit = await victim.exited;
        expect(exit.signal).toBe('SIGKILL');
        live = [...live.filter((p) => p !== victim), stack.spawnWorker(workerEnv)];
      }
    })();

    const counts = await waitFor(
      `all ${TASKS} tasks have finished`,
      async () => {
        const c = await bull.getJobCounts('completed', 'failed');
        return (c.completed ?? 0) + (c.failed ?? 0) >= TASKS ? c : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    finished = true;
    await chaos;
    const durationMs = Date.now() - started;

    // Nothing lost: every task completed, none failed, nothing left behind.
    expect(counts).toEqual({ completed: TASKS, failed: 0 });
    expect(await bull.getJobCounts('waiting', 'prioritized', 'active', 'delayed')).toEqual({
      waiting: 0,
      prioritized: 0,
      active: 0,
      delayed: 0,
    });
    const runs = await stack.runs();
    const neverRan = ids.filter((id) => !((runs.get(id) ?? 0) >= 1));
    expect(neverRan).toEqual([]);

    // The kills really hit running tasks, and BullMQ's stalled check recovered them.
    expect(kills.length).toBeGreaterThanOrEqual(3);
    const recoveries: number[] = [];
    for (const kill of kills) {
      for (const id of kill.inFlight) {
        const at = stalledAt.get(id)?.find((t) => t >= kill.at - 50);
        if (at !== undefined) recoveries.push(at - kill.at);
      }
    }
    expect(recoveries.length).toBeGreaterThan(0);
    // Bound from the settings (lock expiry + up to two stalled checks), with slack for a loaded machine.
    expect(Math.max(...recoveries)).toBeLessThan(LOCK_MS + 2 * STALLED_MS + 5000);

    const duplicates = [...runs.values()].reduce((sum, n) => sum + n - 1, 0);
    report('worker-sigkill', {
      tasks: TASKS,
      workers: WORKERS,
      kills: kills.length,
      in_flight_at_kill: kills.reduce((n, k) => n + k.inFlight.length, 0),
      stalled_recoveries: [...stalledAt.values()].reduce((n, t) => n + t.length, 0),
      duplicate_runs: duplicates,
      lost: neverRan.length,
      lock_duration_ms: LOCK_MS,
      stalled_interval_ms: STALLED_MS,
      recovery_ms: summarize(recoveries),
      duration_ms: durationMs,
    });
  });
});
