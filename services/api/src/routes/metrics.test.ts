import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { TaskWorker } from '@solar-tasks/worker';
import { testRegistry } from '@solar-tasks/worker/test-fixtures';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../api-keys.js';
import { buildApp } from '../app.js';
import { METRIC_NAMES } from '../task-metrics-registry.js';
import { enqueueTask, READ_ONLY_KEY, type Stack, startStack, TEST_KEY } from '../test-support/stack.js';

const METRICS_TOKEN = 'metrics-token-0123456789';
const cleanups: (() => Promise<void>)[] = [];
let stack: Stack | undefined;
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stack?.close();
  stack = undefined;
});

/** A scrape: the parsed families (the parser also rejects malformed text) and the text. */
type Scrape = PrometheusFamily[] & { text: string };

async function scrape(baseUrl: string, authorization = `Bearer ${TEST_KEY}`): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  const text = await res.text();
  return Object.assign(parsePrometheusTextFormat(text), { text });
}

/**
 * One labelled histogram series. parse-prometheus-text-format 1.1.1 merges
 * the series of a histogram that has labels into one (it keeps only
 * label-less `_sum`/`_count`), so the samples are read from the text, whose
 * syntax the parser has already checked.
 */
function histogram(m: Scrape, name: string, task: string) {
  const buckets: Record<string, number> = {};
  const inOrder: number[] = [];
  let sum = Number.NaN;
  let count = Number.NaN;
  for (const line of m.text.split('\n')) {
    const bucket = new RegExp(`^${name}_bucket\\{task="${task}",le="([^"]+)"\\} (\\S+)$`).exec(line);
    if (bucket) {
      buckets[bucket[1]!] = Number(bucket[2]);
      inOrder.push(Number(bucket[2]));
    }
    const total = new RegExp(`^${name}_(sum|count)\\{task="${task}"\\} (\\S+)$`).exec(line);
    if (total?.[1] === 'sum') sum = Number(total[2]);
    if (total?.[1] === 'count') count = Number(total[2]);
  }
  return { buckets, inOrder, sum, count };
}

function family(families: PrometheusFamily[], name: string): PrometheusFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no metric ${name} in: ${families.map((x) => x.name).join(', ')}`);
  return f;
}

/** The value of the sample of `name` whose labels include `labels`. */
function value(families: PrometheusFamily[], name: string, labels: Record<string, string>): number {
  const sample = family(families, name).metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return sample?.value === undefined ? Number.NaN : Number(sample.value);
}

describe('GET /metrics', () => {
  it('reports deployment-wide counters, run-time histograms, depth and workers from two workers and two API replicas', async () => {
    stack = await startStack(testRedisUrl(), { metricsToken: METRICS_TOKEN });
    const s = stack;
    // A second worker process (own connection and queue objects) on the same deployment.
    const { registry } = testRegistry();
    const redis2 = createRedisConnection({ url: testRedisUrl(), prefix: s.prefix }, 'worker');
    const queue2 = new TaskQueue({
      connection: redis2,
      prefix: s.prefix,
      catalog: s.catalog,
      countersFlushMs: 50,
    });
    const worker2 = new TaskWorker({
      queue: queue2,
      connection: redis2,
      registry,
      logger: pino({ level: 'silent' }),
      concurrency: 2,
      shutdownGraceMs: 0,
    });
    await worker2.start();
    cleanups.push(async () => {
      await worker2.close(0);
      await queue2.close();
      redis2.disconnect();
    });
    // A second API replica: it must report the same figures.
    const apiRedis2 = createRedisConnection({ url: testRedisUrl(), prefix: s.prefix }, 'api');
    const apiQueue2 = new TaskQueue({ connection: apiRedis2, prefix: s.prefix, catalog: s.catalog });
    const app2 = await buildApp({
      queue: apiQueue2,
      apiKeys: parseApiKeys(`admin:${TEST_KEY}`, undefined),
      logger: false,
    });
    const api2 = await app2.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      await app2.close();
      await apiQueue2.close();
      apiRedis2.disconnect();
    });

    for (let i = 0; i < 6; i++) await enqueueTask(s, { task_name: 'add_numbers', args: [i, 1] });
    await enqueueTask(s, { task_name: 'sleep_ms', kwargs: { ms: 120 } });
    await enqueueTask(s, {
      task_name: 'flaky',
      kwargs: { fail_times: 1 },
      max_retries: 2,
      retry_delay: 0.05,
    });
    await enqueueTask(s, { task_name: 'permanent_failure', max_retries: 3 });

    // Counters are flushed to Redis every 50 ms by each process: wait for all of them.
    await waitFor(
      'every task is counted as finished in /metrics',
      async () => {
        const m = await scrape(s.baseUrl);
        const seen = {
          add: value(m, METRIC_NAMES.completed, { task: 'add_numbers' }),
          flaky: value(m, METRIC_NAMES.completed, { task: 'flaky' }),
          sleep: value(m, METRIC_NAMES.completed, { task: 'sleep_ms' }),
          failed: value(m, METRIC_NAMES.failed, { task: 'permanent_failure' }),
          runs: histogram(m, METRIC_NAMES.runtime, 'sleep_ms').count,
        };
        const done =
          seen.add === 6 && seen.flaky === 1 && seen.sleep === 1 && seen.failed === 1 && seen.runs === 1;
        // A thrown message is what waitFor reports when it times out.
        if (!done) throw new Error(`not yet: ${JSON.stringify(seen)}`);
        return done;
      },
      { timeoutMs: 15_000 },
    );

    for (const [base, auth] of [
      [s.baseUrl, `Bearer ${METRICS_TOKEN}`],
      [api2, `Bearer ${TEST_KEY}`],
    ] as const) {
      const m = await scrape(base, auth);
      expect(family(m, METRIC_NAMES.enqueued).type).toBe('COUNTER');
      expect(value(m, METRIC_NAMES.enqueued, { task: 'add_numbers' })).toBe(6);
      expect(value(m, METRIC_NAMES.enqueued, { task: 'flaky' })).toBe(1);
      expect(value(m, METRIC_NAMES.retried, { task: 'flaky' })).toBe(1);
      expect(value(m, METRIC_NAMES.failed, { task: 'flaky' })).toBe(0);
      expect(value(m, METRIC_NAMES.retried, { task: 'permanent_failure' })).toBe(0);
      expect(value(m, METRIC_NAMES.completed, { task: 'hang' })).toBe(0);

      expect(family(m, METRIC_NAMES.runtime).type).toBe('HISTOGRAM');
      const add = histogram(m, METRIC_NAMES.runtime, 'add_numbers');
      expect(add.count).toBe(6);
      expect(add.buckets['+Inf']).toBe(6);
      expect(Object.keys(add.buckets)).toHaveLength(17);
      const sleep = histogram(m, METRIC_NAMES.runtime, 'sleep_ms');
      // It slept 120 ms: not in the 0.1 s bucket; in the 1 s one (with room for a loaded machine).
      expect(sleep.buckets['0.1']).toBe(0);
      expect(sleep.buckets['1']).toBe(1);
      expect(sleep.sum).toBeGreaterThanOrEqual(0.12);
      const counts = add.inOrder;
      expect(counts, 'buckets are cumulative').toEqual([...counts].sort((a, b) => a - b));

      expect(value(m, METRIC_NAMES.depth, { queue: 'default', status: 'completed' })).toBe(8);
      expect(value(m, METRIC_NAMES.depth, { queue: 'default', status: 'failed' })).toBe(1);
      expect(value(m, METRIC_NAMES.depth, { queue: 'default', status: 'pending' })).toBe(0);
      expect(value(m, METRIC_NAMES.oldest, { queue: 'default' })).toBe(0);
      expect(value(m, METRIC_NAMES.paused, { queue: 'email' })).toBe(0);
      expect(value(m, METRIC_NAMES.workers, {})).toBe(2);
      // This process's own metrics come along.
      expect(family(m, 'process_cpu_user_seconds_total').type).toBe('COUNTER');
    }

    // A stopped worker leaves at once.
    await worker2.close(0);
    expect(value(await scrape(s.baseUrl), METRIC_NAMES.workers, {})).toBe(1);
  });

  it('is closed: 401 without credentials or with a wrong token, 403 for a key without the admin scope', async () => {
    stack = await startStack(testRedisUrl(), { metricsToken: METRICS_TOKEN, startWorker: false });
    const get = (authorization?: string) =>
      fetch(`${stack!.baseUrl}/metrics`, { headers: authorization ? { authorization } : {} });
    const none = await get();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await get('Bearer metrics-token-wrong-value')).status).toBe(401);
    expect((await get(`Bearer ${READ_ONLY_KEY}`)).status).toBe(403);
    expect((await get(`Bearer ${METRICS_TOKEN}`)).status).toBe(200);
  });
});
