import type { TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import type { Logger } from '@solar-tasks/runtime';
import { uniquePrefix } from '@solar-tasks/testing';
import { TaskWorker } from '@solar-tasks/worker';
import { type Run, testRegistry } from '@solar-tasks/worker/test-fixtures';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
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
  /** Admin key with every scope. */
  key: string;
  /** fetch against the API with the key (unless `auth: false`). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export const TEST_KEY = 'test-key-0123456789abcdef';
export const READ_ONLY_KEY = 'read-only-key-0123456789';

/**
 * Starts API + worker on `redisUrl` under a fresh prefix. The worker starts
 * only when `startWorker` is true (tests about ordering start it later).
 */
export async function startStack(
  redisUrl: string,
  {
    startWorker = true,
    concurrency = 4,
    limits,
    emailjs,
    apiLogger,
    workerLogger,
  }: {
    startWorker?: boolean;
    concurrency?: number;
    /** Rate limits; counted in the stack's Redis. Generous by default so tests are not throttled. */
    limits?: Omit<RequestLimits, 'redis'>;
    /** Webhook options (its Redis is the API's connection). */
    emailjs?: Omit<EmailjsWebhookOptions, 'redis'>;
    apiLogger?: Logger;
    workerLogger?: Logger;
  } = {},
): Promise<Stack> {
  const prefix = uniquePrefix('e2e');
  const { registry, catalog, runs } = testRegistry();
  const settings = { url: redisUrl, prefix };
  const apiRedis = createRedisConnection(settings, 'api');
  const workerRedis: Redis = createRedisConnection(settings, 'worker');
  const queue = new TaskQueue({ connection: apiRedis, prefix, catalog, countersFlushMs: 50 });
  const workerQueue = new TaskQueue({ connection: workerRedis, prefix, catalog, countersFlushMs: 50 });
  const logger = workerLogger ?? pino({ level: 'silent' });
  const worker = new TaskWorker({
    queue: workerQueue,
    connection: workerRedis,
    registry,
    logger,
    concurrency,
    shutdownGraceMs: 2000,
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
      const keys = await apiRedis.keys(`${prefix}:*`).catch(() => []);
      if (keys.length) await apiRedis.del(...keys).catch(() => {});
      apiRedis.disconnect();
      workerRedis.disconnect();
    },
  };
}
