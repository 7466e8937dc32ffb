import { waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { pause, report, setupFaultStack, summarize } from './harness/fault-stack.js';

const cleanups: (() => Promise<void>)[] = [];
/** How long Redis stays down (the harness's outage, like a kill cadence; nothing waits on it for a result). */
const OUTAGE_MS = 3000;
/** Concurrent producer clients. */
const CLIENTS = 4;
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** What the producer saw for each request. */
interface Answer {
  at: number;
  status: number | 'network-error';
  ms: number;
  taskId?: string;
}

describe('a Redis restart in the middle of a run (AOF, appendfsync always)', () => {
  it('answers 503 fast while Redis is down, recovers by itself, and completes every task acknowledged with 201', async () => {
    const stack = await setupFaultStack(cleanups, { redis: { appendonly: true, appendfsync: 'always' } });
    const api = await stack.spawnApi();
    // A task whose fetch reply is lost with the connection sits in `active` until BullMQ's
    // stalled check recovers it: short settings keep that within seconds here (default 30 s + 30 s).
    const workerEnv = { WORKER_LOCK_DURATION_MS: '4000', WORKER_STALLED_INTERVAL_MS: '2000' };
    const workers = [stack.spawnWorker(workerEnv), stack.spawnWorker(workerEnv)];
    await stack.waitForWorkers(workers.map((w) => w.pid));

    // Producer: clients posting tasks back to back for the whole test, outage included.
    const answers: Answer[] = [];
    let producing = true;
    const client = async () => {
      while (producing) {
        const t = Date.now();
        try {
          const res = await api.call('POST', '/api/tasks/enqueue/', {
            task_name: 'record_run',
            kwargs: { sleep_ms: 10 },
          });
          const body = (await res.json()) as { task_id?: string; error?: { code: string } };
          answers.push({ at: t, status: res.status, ms: Date.now() - t, taskId: body.task_id });
          if (res.status === 503) expect(body.error?.code).toBe('QUEUE_UNAVAILABLE');
        } catch {
          answers.push({ at: t, status: 'network-error', ms: Date.now() - t });
        }
      }
    };
    const producers = Promise.all(Array.from({ length: CLIENTS }, client));
    const acked = () => answers.filter((a) => a.status === 201);

    await waitFor('300 tasks are acknowledged before the kill', () => acked().length >= 300, {
      timeoutMs: 60_000,
    });
    await stack.server.kill();
    const killedAt = Date.now();
    const ackedBeforeKill = answers.filter((a) => a.status === 201 && a.at < killedAt).map((a) => a.taskId!);

    // The outage: fast 503s, not ready, still alive.
    await waitFor('50 requests were answered 503 during the outage', () => {
      return answers.filter((a) => a.at > killedAt && a.status === 503).length >= 50;
    });
    const ready = await api.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, redis: 'down' });
    expect((await api.call('GET', '/healthz')).status).toBe(200);
    expect(api.proc.alive() && workers.every((w) => w.alive())).toBe(true);

    await pause(killedAt + OUTAGE_MS - Date.now());
    const restartBegan = Date.now();
    await stack.restartRedis();
    const restartedAt = Date.now();
    await waitFor('the API is ready again', async () => (await api.call('GET', '/readyz')).status === 200, {
      timeoutMs: 15_000,
    });
    const apiRecoveryMs = Date.now() - restartedAt;
    await waitFor(
      'a worker has run a task acknowledged after the restart',
      async () => {
        const runs = await stack.runs();
        return answers.some((a) => a.at > restartedAt && a.status === 201 && runs.has(a.taskId!));
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const workerRecoveryMs = Date.now() - restartedAt;
    await waitFor(
      '100 more tasks are acknowledged after the restart',
      () => answers.filter((a) => a.at > restartedAt && a.status === 201).length >= 100,
      { timeoutMs: 30_000 },
    );
    producing = false;
    await producers;

    // Every acknowledged task is still there and completes.
    const ackedIds = acked().map((a) => a.taskId!);
    await waitFor(
      `all ${ackedIds.length} acknowledged tasks ran`,
      async () => {
        const runs = await stack.runs();
        return ackedIds.every((id) => (runs.get(id) ?? 0) >= 1);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const states = await Promise.all(ackedIds.map((id) => stack.queue.getStatus(id)));
    expect(states.filter((s) => s?.status !== 'completed')).toEqual([]);
    expect(ackedBeforeKill.length).toBeGreaterThanOrEqual(300);

    // During the outage every answer was a 503 within the API's 1 s Redis deadline, never a hang or a 500.
    const duringOutage = answers.filter((a) => a.at > killedAt && a.at < restartBegan);
    expect(duringOutage.length).toBeGreaterThanOrEqual(50);
    expect(duringOutage.filter((a) => a.status !== 503)).toEqual([]);
    const outageMs = duringOutage.map((a) => a.ms);
    expect(Math.max(...outageMs)).toBeLessThan(1500);
    expect(answers.filter((a) => a.status !== 201 && a.status !== 503)).toEqual([]);
    // A 503 means nothing was queued: no task runs that was not acknowledged, except at most
    // one per client for requests in flight at the instant of the kill (their answer is unknown).
    const ranUnacknowledged = [...(await stack.runs()).keys()].filter((id) => !ackedIds.includes(id));
    expect(ranUnacknowledged.length).toBeLessThanOrEqual(CLIENTS);
    expect(api.proc.alive() && workers.every((w) => w.alive())).toBe(true);

    const runs = await stack.runs();
    const jobs = await Promise.all(ackedIds.map((id) => stack.queue.bullQueue('default').getJob(id)));
    report('redis-restart', {
      acked_before_kill: ackedBeforeKill.length,
      acked_total: ackedIds.length,
      lost: 0,
      duplicate_runs: [...runs.values()].reduce((sum, n) => sum + n - 1, 0),
      recovered_by_stalled_check: jobs.filter((j) => (j?.stalledCounter ?? 0) > 0).length,
      outage_ms: restartBegan - killedAt,
      answers_503_during_outage: duringOutage.length,
      latency_503_ms: summarize(outageMs),
      api_ready_after_restart_ms: apiRecoveryMs,
      worker_running_after_restart_ms: workerRecoveryMs,
    });
  });
});
