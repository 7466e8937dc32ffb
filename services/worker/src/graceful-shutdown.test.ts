import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskWorker } from './task-worker.js';
import { testRegistry } from './test-fixtures/test-tasks.js';

const fixture = fileURLToPath(new URL('./test-fixtures/worker-process.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const prefix = uniquePrefix('sigterm');
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  const { catalog } = testRegistry();
  const queue = new TaskQueue({ connection: redis, prefix, catalog });
  await queue.waitUntilReady();
  cleanups.push(async () => {
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  const spawnWorker = (graceSeconds: number): ChildProcess => {
    const child = spawn(tsx, ['--conditions=@solar-tasks/source', fixture], {
      env: {
        ...process.env,
        REDIS_URL: testRedisUrl(),
        REDIS_PREFIX: prefix,
        WORKER_SHUTDOWN_GRACE: String(graceSeconds),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    return child;
  };
  const statusOf = async (id: string) => (await queue.getStatus(id))?.status;
  return { prefix, redis, queue, catalog, spawnWorker, statusOf };
}

describe('SIGTERM to a busy worker process', () => {
  it('lets the running task finish within the grace period, then exits 0', async () => {
    const { queue, spawnWorker, statusOf } = await setup();
    const child = spawnWorker(10);
    const { taskId } = await queue.enqueue({ task_name: 'sleep_ms', args: [1500] });
    await waitFor('the task is running in the child', async () => (await statusOf(taskId)) === 'running', {
      timeoutMs: 20_000,
    });
    const pending = await queue.enqueue({ task_name: 'add_numbers', args: [1, 1], countdown: 0.5 });
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(await statusOf(taskId)).toBe('completed');
    // Stopped workers take nothing new: the later task is still waiting.
    await new Promise((r) => setTimeout(r, 600));
    expect(['pending', 'scheduled']).toContain(await statusOf(pending.taskId));
  });

  it('hands a task that outlasts the grace period back to the queue, where another worker completes it', async () => {
    const { queue, redis, catalog, spawnWorker, statusOf } = await setup();
    const child = spawnWorker(0.3);
    const { taskId } = await queue.enqueue({ task_name: 'sleep_ms', args: [2000] });
    await waitFor('the task is running in the child', async () => (await statusOf(taskId)) === 'running', {
      timeoutMs: 20_000,
    });
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const handedBack = await queue.getStatus(taskId);
    expect(handedBack).toMatchObject({ status: 'pending', attempts: 0 });

    const { registry } = testRegistry();
    const worker = new TaskWorker({
      queue,
      connection: redis,
      registry,
      logger: pino({ level: 'silent' }),
      queues: catalog.queues(),
    });
    cleanups.push(() => worker.close(0).then(() => {}));
    await worker.start();
    await waitFor('the handed-back task completes', async () => (await statusOf(taskId)) === 'completed', {
      timeoutMs: 10_000,
    });
  });
});
