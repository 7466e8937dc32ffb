import { type Stack, startStack } from '@solar-tasks/api/test-support';
import { cleanUp, type RedisClusterHandle, startRedisCluster, waitFor } from '@solar-tasks/testing';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let cluster: RedisClusterHandle;
let stack: Stack;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  stack = await startStack({ clusterNodes: cluster.endpoints });
});

afterAll(() => cleanUp([() => stack?.close(), () => cluster?.stop()]));

async function enqueue(body: Record<string, unknown>): Promise<string> {
  const res = await stack.call('POST', '/api/tasks/enqueue/', body);
  expect(res.status, JSON.stringify(await res.clone().json())).toBeLessThan(300);
  return ((await res.json()) as { task_id: string }).task_id;
}

async function statusOf(id: string): Promise<{ status: string; result: unknown; attempts: number }> {
  const res = await stack.call('GET', `/api/tasks/status/${id}/`);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; result: unknown; attempts: number };
}

describe('on a 3-master Redis Cluster', () => {
  it('runs tasks on every queue to completion, with status, retries, delays, idempotency and stats', async () => {
    const ids: Record<string, string[]> = { default: [], email: [], reports: [] };
    for (let i = 0; i < 5; i++) {
      ids.default!.push(await enqueue({ task_name: 'add_numbers', args: [i, 1] }));
      ids.email!.push(await enqueue({ task_name: 'echo_email', args: [`mail ${i}`] }));
      ids.reports!.push(await enqueue({ task_name: 'echo_report', args: [`report ${i}`] }));
    }
    const flaky = await enqueue({ task_name: 'flaky', args: [1], retry_delay: 0.05 });
    const delayed = await enqueue({ task_name: 'add_numbers', args: [2, 2], countdown: 0.3 });
    expect((await statusOf(delayed)).status).toBe('scheduled');
    const once = await enqueue({ task_name: 'echo_email', args: ['once'], idempotency_key: 'cluster-once' });
    expect(await enqueue({ task_name: 'echo_email', args: ['once'], idempotency_key: 'cluster-once' })).toBe(
      once,
    );

    const all = [...ids.default!, ...ids.email!, ...ids.reports!, flaky, delayed, once];
    await waitFor(
      'every task on the cluster completes',
      async () => (await Promise.all(all.map(statusOf))).every((s) => s.status === 'completed'),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(await statusOf(ids.default![3]!)).toMatchObject({ result: { sum: 4 } });
    expect(await statusOf(ids.reports![0]!)).toMatchObject({ result: { text: 'report 0' } });
    expect(await statusOf(flaky)).toMatchObject({ attempts: 2, result: { succeeded_on: 2 } });
    expect(stack.runs.filter((r) => r.label === 'once')).toHaveLength(1);

    await waitFor(
      'queue-status shows every queue’s completions and the lifetime totals',
      async () => {
        const res = await stack.call('GET', '/api/tasks/queue-status/');
        const body = (await res.json()) as {
          queues: Record<string, { completed: number }>;
          tasks: Record<string, { enqueued: number; completed: number; retried: number }>;
        };
        return (
          body.queues.default?.completed === 7 &&
          body.queues.email?.completed === 6 &&
          body.queues.reports?.completed === 5 &&
          body.tasks.echo_report?.completed === 5 &&
          body.tasks.flaky?.retried === 1 &&
          body.tasks.echo_email?.enqueued === 6
        );
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );

    // Workers online, throughput and run times work on Cluster too (BullMQ's getWorkers() would not).
    await waitFor(
      'queue-status and /metrics show the worker, the throughput and the run times',
      async () => {
        const qs = (await (await stack.call('GET', '/api/tasks/queue-status/')).json()) as {
          workers_online: number;
          throughput: { per_minute: { completed: number; retried: number }[] };
        };
        const completed = qs.throughput.per_minute.reduce((n, m) => n + m.completed, 0);
        const metrics = await stack.call('GET', '/metrics');
        const text = await metrics.text();
        return (
          qs.workers_online === 1 &&
          completed === 18 &&
          metrics.status === 200 &&
          text.includes('solar_workers_online 1') &&
          text.includes('solar_task_run_duration_seconds_count{task="echo_report"} 5')
        );
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  });

  it('keeps each queue in one slot, on one master, and the queues spread over the masters', async () => {
    const probe = new Cluster(cluster.endpoints);
    try {
      await new Promise((resolve) => probe.once('ready', resolve));
      const owner: Record<string, Set<number>> = {};
      for (const node of probe.nodes('master')) {
        for (const key of await node.keys(`${stack.prefix}:{*}:*`)) {
          const queue = /^[^:]+:\{([^}]+)\}:/.exec(key)![1]!;
          // The metrics keys (run times, throughput, worker heartbeats) share their own tag.
          if (queue === 'stats') continue;
          owner[queue] ??= new Set();
          owner[queue].add(node.options.port!);
        }
      }
      expect(Object.keys(owner).sort()).toEqual(['default', 'email', 'reports']);
      for (const ports of Object.values(owner)) expect(ports.size).toBe(1);
      const slots = await Promise.all(
        ['default', 'email', 'reports'].map((q) => probe.cluster('KEYSLOT', `${stack.prefix}:{${q}}:x`)),
      );
      expect(new Set(slots).size).toBe(3);
      // default, email and reports hash to slots owned by at least two of the three masters.
      expect(new Set(Object.values(owner).map((s) => [...s][0])).size).toBeGreaterThanOrEqual(2);
    } finally {
      probe.disconnect();
    }
  });

  it('cancels a running task through the cancel channel, which reaches workers on any node', async () => {
    const id = await enqueue({ task_name: 'sleep_ms', args: [30_000] });
    await waitFor('the task runs', async () => (await statusOf(id)).status === 'running');
    await stack.queue.cancel(id, 'cluster test');
    await waitFor('the running task is cancelled', async () => (await statusOf(id)).status === 'cancelled', {
      timeoutMs: 5000,
    });
  });
});
