import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, type RedisClient, TaskQueue } from '@solar-tasks/queue';
import { uniquePrefix } from '@solar-tasks/testing';

import { type Logger, pino } from 'pino';
import { builtinRegistry, type HandlerDeps } from '../handlers/index.js';
import { TaskWorker } from '../task-worker.js';
import { type Run, registerTestTasks, testTasks } from './test-tasks.js';

/** A real worker running the built-in handlers (and the test tasks) on a fresh prefix and data folder. */
export interface BuiltinWorker {
  prefix: string;
  dataDir: string;
  /** A worker-role connection on the prefix (tests read and seed keys with it). */
  redis: RedisClient;
  /** The worker's queue (enqueue, status). */
  queue: TaskQueue;
  worker: TaskWorker;
  catalog: TaskCatalog;
  runs: Run[];
  /** Stops the worker, deletes the prefix's keys and the data folder. */
  close(): Promise<void>;
}

/** Options: any handler dependency, plus whether to start consuming at once. */
export type BuiltinWorkerOptions = Partial<Omit<HandlerDeps, 'redis' | 'prefix'>> & {
  start?: boolean;
  concurrency?: number;
  prefix?: string;
  /** Where the worker logs; silent by default. */
  logger?: Logger;
};

/** Starts a {@link BuiltinWorker} on `redisUrl`. */
export async function startBuiltinWorker(
  redisUrl: string,
  {
    start = true,
    concurrency = 4,
    prefix = uniquePrefix('builtin'),
    logger,
    ...deps
  }: BuiltinWorkerOptions = {},
): Promise<BuiltinWorker> {
  const dataDir = deps.dataDir ?? (await mkdtemp(join(tmpdir(), 'solar-data-')));
  const redis = createRedisConnection({ url: redisUrl, prefix }, 'worker');
  const catalog = new TaskCatalog([...builtinTasks, ...testTasks]);
  const queue = new TaskQueue({ connection: redis, prefix, catalog, countersFlushMs: 50 });
  const runs: Run[] = [];
  const registry = registerTestTasks(
    builtinRegistry({ smtpFrom: 'Solar CRM <no-reply@solar.test>', ...deps, dataDir, redis, prefix }),
    runs,
  );
  const worker = new TaskWorker({
    queue,
    connection: redis,
    registry,
    logger: logger ?? pino({ level: 'silent' }),
    concurrency,
    shutdownGraceMs: 2000,
  });
  await queue.waitUntilReady();
  if (start) await worker.start();
  return {
    prefix,
    dataDir,
    redis,
    queue,
    worker,
    catalog,
    runs,
    async close() {
      await worker.close(0);
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`).catch(() => []);
      if (keys.length) await redis.del(...keys).catch(() => {});
      redis.disconnect();
      if (!deps.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
