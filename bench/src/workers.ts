import { createRedisConnection, type RedisClient, TaskQueue } from '@solar-tasks/queue';
import { createLogger } from '@solar-tasks/runtime';
import { TaskRegistry, TaskWorker } from '@solar-tasks/worker';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { catalog, noopTask, now, PREFIX, QUEUE, RAW_PREFIX, RAW_QUEUE } from './common.js';

/** Latency samples a worker's handler records (ms). */
export interface Samples {
  latency: number[];
  lateness: number[];
  /** Handler start times by task number (latency runs: matched with the API's arrival times). */
  starts: [n: number, at: number][];
}

function record(samples: Samples, args: { n: number; sent_at?: number; due_at?: number }): void {
  const at = now();
  if (args.due_at !== undefined) samples.lateness.push(at - args.due_at);
  else if (args.sent_at !== undefined) {
    samples.latency.push(at - args.sent_at);
    samples.starts.push([args.n, at]);
  }
}

/** A worker the bench drives: ours or raw BullMQ, counting completions. */
export interface BenchWorker {
  completed: number;
  samples: Samples;
  /** Starts taking tasks. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Our worker as production runs it: the registry, argument validation, the
 * pino logger at info (to `logFile`, asynchronous as in production), counters.
 */
export function oursWorker(redisUrl: string, concurrency: number, logFile: string): BenchWorker {
  const connection = createRedisConnection({ url: redisUrl, prefix: PREFIX }, 'worker');
  const queue = new TaskQueue({ connection, prefix: PREFIX, catalog });
  const logger = createLogger({
    name: 'worker',
    level: 'info',
    dest: logFile,
  });
  const samples: Samples = { latency: [], lateness: [], starts: [] };
  // Async like the raw processor below (and like real handlers): the timeout and cancellation path is measured.
  const registry = new TaskRegistry().register(noopTask, async (args) => {
    record(samples, args);
    return null;
  });
  const worker = new TaskWorker({
    queue,
    connection,
    registry,
    logger,
    queues: [QUEUE],
    concurrency,
    shutdownGraceMs: 1000,
  });
  const self: BenchWorker = {
    completed: 0,
    samples,
    start: () => worker.start(),
    async close() {
      await worker.close();
      await queue.close();
      logger.flush();
      connection.disconnect();
    },
  };
  worker.on('task:completed', () => {
    self.completed++;
  });
  return self;
}

/** A bare BullMQ Worker with a no-op processor: the baseline. */
export function rawWorker(redisUrl: string, concurrency: number): BenchWorker {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const samples: Samples = { latency: [], lateness: [], starts: [] };
  const worker = new Worker(
    RAW_QUEUE,
    async (job) => {
      record(samples, job.data as { n: number; sent_at?: number; due_at?: number });
      return null;
    },
    { connection, prefix: RAW_PREFIX, concurrency, autorun: false },
  );
  const self: BenchWorker = {
    completed: 0,
    samples,
    async start() {
      await worker.waitUntilReady();
      void worker.run();
    },
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
  worker.on('completed', () => {
    self.completed++;
  });
  return self;
}

/** Our queue (for enqueues) on its own api-role connection. */
export function oursQueue(redisUrl: string): { queue: TaskQueue; connection: RedisClient } {
  const connection = createRedisConnection({ url: redisUrl, prefix: PREFIX }, 'api');
  return { queue: new TaskQueue({ connection, prefix: PREFIX, catalog }), connection };
}

/** The raw BullMQ queue of the baseline. */
export function rawQueue(redisUrl: string): { queue: Queue; connection: Redis } {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  return { queue: new Queue(RAW_QUEUE, { connection, prefix: RAW_PREFIX }), connection };
}
