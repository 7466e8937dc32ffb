import { waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { report, setupFaultStack } from './harness/fault-stack.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a full Redis (maxmemory reached, noeviction)', () => {
  it('refuses new tasks with 503 and loses none of those it acknowledged', async () => {
    const stack = await setupFaultStack(cleanups, {
      redis: { extraArgs: ['--maxmemory', '3mb', '--maxmemory-policy', 'noeviction'] },
    });
    const api = await stack.spawnApi();

    // Fill Redis with tasks nobody runs yet, until it refuses one.
    const acked: string[] = [];
    let refusal: { status: number; body: { error?: { code: string } } } | undefined;
    while (!refusal && acked.length < 50_000) {
      const res = await api.call('POST', '/api/tasks/enqueue/', { task_name: 'record_run' });
      const body = (await res.json()) as { task_id: string; error?: { code: string } };
      if (res.status === 201) acked.push(body.task_id);
      else refusal = { status: res.status, body };
    }
    expect(refusal).toEqual({
      status: 503,
      body: { error: expect.objectContaining({ code: 'QUEUE_UNAVAILABLE' }) },
    });
    expect(acked.length).toBeGreaterThan(100);
    expect((await api.call('GET', '/healthz')).status).toBe(200);

    // Workers cannot take a task from a full Redis either (moving one to `active` writes a
    // lock), so freeing memory is the operator's move: here, more maxmemory.
    const worker = stack.spawnWorker();
    await stack.redis.config('SET', 'maxmemory', '0');
    await waitFor(
      `all ${acked.length} acknowledged tasks ran`,
      async () => {
        const runs = await stack.runs();
        return acked.every((id) => runs.has(id));
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect((await api.call('POST', '/api/tasks/enqueue/', { task_name: 'record_run' })).status).toBe(201);
    expect(api.proc.alive() && worker.alive()).toBe(true);
    report('redis-full', { maxmemory: '3mb', acknowledged_before_full: acked.length, lost: 0 });
  });
});
