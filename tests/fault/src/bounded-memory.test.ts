import { waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { faultSettings } from './env.js';
import { type ApiHandle, type FaultStack, report, setupFaultStack } from './harness/fault-stack.js';
import type { ServiceProcess } from './harness/service-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Finished tasks are kept this long (TASK_CLEANUP_DAYS as a fraction of a day). */
const RETENTION_S = 2;
const RETENTION_DAYS = String(RETENTION_S / 86_400);
/** Share of the tasks sent through the real API (the rest are queued directly, for speed). */
const API_SHARE = 0.1;
const MB = 1024 * 1024;

/** Pushes `count` tasks: most through `TaskQueue.enqueue`, a share through `POST /api/tasks/enqueue/`. */
async function produce(
  stack: FaultStack,
  api: ApiHandle,
  count: number,
  apiShare = API_SHARE,
): Promise<void> {
  const viaApi = Math.round(count * apiShare);
  let direct = count - viaApi;
  let http = viaApi;
  const directLane = async () => {
    while (direct > 0) {
      direct--;
      await stack.queue.enqueue({ task_name: 'add_numbers', args: [1, 2] });
    }
  };
  const apiLane = async () => {
    while (http > 0) {
      http--;
      const res = await api.call('POST', '/api/tasks/enqueue/', { task_name: 'add_numbers', args: [1, 2] });
      expect(res.status).toBe(201);
      await res.arrayBuffer();
    }
  };
  await Promise.all([...Array.from({ length: 64 }, directLane), ...Array.from({ length: 8 }, apiLane)]);
}

/** Tasks completed so far, from the workers' counters (flushed every second). */
async function completed(stack: FaultStack): Promise<number> {
  return Number(await stack.redis.hget(`${stack.prefix}:stats:task-totals`, 'add_numbers:completed'));
}

/** Removes finished tasks older than the retention, as `tasks cleanup` does, until none is left. */
async function cleanUp(stack: FaultStack): Promise<void> {
  const bull = stack.queue.bullQueue('default');
  await waitFor(
    'every finished task has outlived its retention and is removed',
    async () => {
      await bull.clean(RETENTION_S * 1000, 0, 'completed');
      await bull.clean(RETENTION_S * 1000, 0, 'failed');
      const c = await bull.getJobCounts('completed', 'failed', 'waiting', 'prioritized', 'active', 'delayed');
      return Object.values(c).every((n) => n === 0);
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

describe('memory under a long run', () => {
  it(`returns Redis near its baseline and keeps API and worker memory flat over ${faultSettings.FAULT_MEMORY_TASKS} tasks`, async () => {
    const total = faultSettings.FAULT_MEMORY_TASKS;
    const stack = await setupFaultStack(cleanups, { retentionDays: Number(RETENTION_DAYS) });
    const env = { TASK_CLEANUP_DAYS: RETENTION_DAYS };
    const api = await stack.spawnApi(env);
    const workers = [0, 1].map(() => stack.spawnWorker({ ...env, WORKER_CONCURRENCY: '50' }));
    await stack.waitForWorkers(workers.map((w) => w.pid));
    const procs: ServiceProcess[] = [api.proc, ...workers];
    const rss = () => procs.map((p) => p.rssBytes() ?? 0);
    const probe = () => Promise.all(procs.map((p) => p.probeMemory()));

    // Warm up (JIT, connection pools, BullMQ's capped event stream), then take the baseline.
    // Half through the API: its JIT and caches settle on requests, not on tasks.
    const warmup = 4000;
    await produce(stack, api, warmup, 0.5);
    await waitFor('the warm-up tasks are completed', async () => (await completed(stack)) >= warmup, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await cleanUp(stack);
    const baseline = { redis: await stack.usedMemory(), mem: await probe() };

    const peak = { redis: baseline.redis, rss: baseline.mem.map((m) => m.rss) };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak.redis = Math.max(peak.redis, await stack.usedMemory());
        rss().forEach((v, i) => {
          peak.rss[i] = Math.max(peak.rss[i]!, v);
        });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const started = Date.now();
    const half = Math.floor(total / 2);
    await produce(stack, api, half);
    await waitFor('the first half is completed', async () => (await completed(stack)) >= warmup + half, {
      timeoutMs: 300_000,
      intervalMs: 200,
    });
    const mid = { mem: await probe() };
    await produce(stack, api, total - half);
    await waitFor('every task is completed', async () => (await completed(stack)) >= warmup + total, {
      timeoutMs: 300_000,
      intervalMs: 200,
    });
    const durationMs = Date.now() - started;
    // Retention works during the run: each completion removes the tasks finished more than
    // RETENTION_S ago, so what is still in Redis spans only the last seconds of the run.
    const completedKey = stack.queue.bullQueue('default').keys.completed!;
    const retained = await stack.redis.zcard(completedKey);
    const [, oldest] = await stack.redis.zrange(completedKey, '0', '0', 'WITHSCORES');
    const [, newest] = await stack.redis.zrange(completedKey, '-1', '-1', 'WITHSCORES');
    const retainedSpanMs = Number(newest) - Number(oldest);
    sampling = false;
    await sampler;
    await cleanUp(stack);
    const after = { redis: await stack.usedMemory(), mem: await probe() };

    const mb = (n: number) => Math.round((n / MB) * 10) / 10;
    const names = ['api', 'worker1', 'worker2'];
    const figures = {
      tasks: total,
      via_api: Math.round(total * API_SHARE),
      duration_ms: durationMs,
      tasks_per_s: Math.round((total / durationMs) * 1000),
      completed_still_retained_at_end: { tasks: retained, span_ms: retainedSpanMs },
      redis_used_memory_mb: { baseline: mb(baseline.redis), peak: mb(peak.redis), after: mb(after.redis) },
      // After a full GC at start, middle and end; peak RSS sampled every 200 ms during the run.
      processes_mb: Object.fromEntries(
        names.map((n, i) => [
          n,
          {
            rss: {
              start: mb(baseline.mem[i]!.rss),
              mid: mb(mid.mem[i]!.rss),
              peak: mb(peak.rss[i]!),
              end: mb(after.mem[i]!.rss),
            },
            heap_used: {
              start: mb(baseline.mem[i]!.heap_used),
              mid: mb(mid.mem[i]!.heap_used),
              end: mb(after.mem[i]!.heap_used),
            },
          },
        ]),
      ),
    };
    report('bounded-memory', figures);

    expect(retainedSpanMs).toBeLessThan(RETENTION_S * 1000 + 1000);
    // Redis: retention and cleanup give back what the run took (a small allowance for
    // allocator pages and BullMQ's event stream, which is capped at ~10,000 entries).
    expect(after.redis - baseline.redis).toBeLessThan(2 * MB);
    // Processes: what they hold after a full GC does not grow with the number of tasks. A
    // leak of 40 bytes a task shows as growth between the middle and the end.
    const secondHalf = total - half;
    procs.forEach((_, i) => {
      const growth = after.mem[i]!.heap_used - mid.mem[i]!.heap_used;
      expect(growth, `${names[i]} heap grew by ${mb(growth)} MB over ${secondHalf} tasks`).toBeLessThan(
        Math.max(0.4 * MB, 40 * secondHalf),
      );
    });
  });
});
