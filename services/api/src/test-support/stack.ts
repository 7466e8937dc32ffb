import type { TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, type RedisClient, type RedisSettings, TaskQueue } from '@solar-tasks/queue';
import type { Logger } from '@solar-tasks/runtime';
import { uniquePrefix } from '@solar-tasks/testing';
import { TaskWorker } from '@solar-tasks/worker';
import { type Run, testRegistry } from '@solar-tasks/worker/test-fixtures';
import { Cluster } from 'ioredis';
import { pino } from 'pino';
import { expect } from 'vitest';
import { parseApiKeys } from '../api-keys.js';
import { type App, buildApp } from '../app.js';
import type { RequestLimits } from '../plugins/request-limits.js';
import type { EmailjsWebhookOptions } from '../routes/webhook-emailjs.js';

/** A whole system for one test: Redis prefix, API listening on a free port, and a real worker. */
export interface Stack {
  baseUrl: string;
  app: App;
  queue: TaskQueue;
  worker: TaskWorker;
  workerQueue: TaskQueue;
  runs: Run[];
  prefix: string;
  catalog: TaskCatalog;
  /** The API's and the worker's connections (tests about Redis topologies look at their status). */
  redis: { api: RedisClient; worker: RedisClient };
  /** Admin key with every scope. */
  key: string;
  /** fetch against the API with the key (unless `auth: false`). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export const TEST_KEY = 'test-key-0123456789abcdef';
export const READ_ONLY_KEY = 'read-only-key-0123456789';

/** Options of {@link startStack}. */
export interface StackOptions {
  /** Start the worker now (tests about ordering start it later). @defaultValue true */
  startWorker?: boolean;
  /** @defaultValue 4 */
  concurrency?: number;
  /** Worker lock duration (failover tests shorten it). */
  lockDurationMs?: number;
  /** Worker stalled-check interval. */
  stalledIntervalMs?: number;
  /** Replicas that must confirm an enqueue (`REDIS_WAIT_REPLICAS`). */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  /** Rate limits; counted in the stack's Redis. Generous by default so tests are not throttled. */
  limits?: Omit<RequestLimits, 'redis'>;
  /** Webhook options (its Redis is the API's connection). */
  emailjs?: Omit<EmailjsWebhookOptions, 'redis'>;
  apiLogger?: Logger;
  workerLogger?: Logger;
  /** Dashboard login (`ADMIN_USERNAME`/`ADMIN_PASSWORD`). */
  admin?: { username: string; password: string; loginLimit?: { max?: number; windowMs?: number } };
  /** `METRICS_TOKEN`. */
  metricsToken?: string;
  /** How often the worker writes its heartbeat. */
  presenceIntervalMs?: number;
}

/**
 * Starts API + worker under a fresh prefix, on a Redis URL or on any
 * topology's settings (Sentinel, Cluster, TLS…).
 */
export async function startStack(
  redis: string | Omit<RedisSettings, 'prefix'>,
  options: StackOptions = {},
): Promise<Stack> {
  const { startWorker = true, concurrency = 4, limits, emailjs, apiLogger, workerLogger } = options;
  const prefix = uniquePrefix('e2e');
  const { registry, catalog, runs } = testRegistry();
  const settings: RedisSettings = typeof redis === 'string' ? { url: redis, prefix } : { ...redis, prefix };
  const apiRedis = createRedisConnection(settings, 'api');
  const workerRedis = createRedisConnection(settings, 'worker');
  const queue = new TaskQueue({
    connection: apiRedis,
    prefix,
    catalog,
    countersFlushMs: 50,
    waitReplicas: options.waitReplicas,
    waitTimeoutMs: options.waitTimeoutMs,
  });
  const workerQueue = new TaskQueue({ connection: workerRedis, prefix, catalog, countersFlushMs: 50 });
  const logger = workerLogger ?? pino({ level: 'silent' });
  const worker = new TaskWorker({
    queue: workerQueue,
    connection: workerRedis,
    registry,
    logger,
    concurrency,
    shutdownGraceMs: 2000,
    lockDurationMs: options.lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs,
    presenceIntervalMs: options.presenceIntervalMs,
  });
  await queue.waitUntilReady();
  const app = await buildApp({
    queue,
    apiKeys: parseApiKeys(`admin:${TEST_KEY},reader:${READ_ONLY_KEY}`, 'reader=tasks:read'),
    logger: apiLogger ?? false,
    limits: {
      perKeyMax: 1_000_000,
      perIpMax: 1_000_000,
      ...limits,
      redis: apiRedis,
      nameSpace: `${prefix}:rate-limit:`,
    },
    ...(emailjs ? { emailjs: { ...emailjs, redis: apiRedis } } : {}),
    ...(options.admin ? { admin: options.admin } : {}),
    ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  if (startWorker) await worker.start();

  return {
    baseUrl: address,
    app,
    queue,
    worker,
    workerQueue,
    runs,
    prefix,
    catalog,
    redis: { api: apiRedis, worker: workerRedis },
    key: TEST_KEY,
    call(method, path, body, headers = {}) {
      return fetch(`${address}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_KEY}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async close() {
      await app.close();
      await worker.close(0);
      await workerQueue.close();
      await queue.close();
      await deleteKeys(apiRedis, `${prefix}:*`).catch(() => {});
      apiRedis.disconnect();
      workerRedis.disconnect();
    },
  };
}

/** Deletes the keys matching `pattern`, on each master of a Cluster (keys of many slots: one DEL each). */
async function deleteKeys(redis: RedisClient, pattern: string): Promise<void> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    const keys = await node.keys(pattern);
    if (keys.length === 0) continue;
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.unlink(key);
    await pipeline.exec();
  }
}

/** Enqueues through the stack's API and expects a new task (201); returns its id. */
export async function enqueueTask(s: Stack, body: Record<string, unknown>): Promise<string> {
  const res = await s.call('POST', '/api/tasks/enqueue/', body);
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { task_id: string }).task_id;
}
