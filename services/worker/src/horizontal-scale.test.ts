import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Run, testRegistry } from './test-fixtures/test-tasks.js';

const fixture = fileURLToPath(new URL('./test-fixtures/worker-process.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface WorkerChild {
  child: ChildProcess;
  /** What this process ran, from the run log it appends to. */
  runs(): Run[];
}

async function setup() {
  const prefix = uniquePrefix('scale');
  const dir = mkdtempSync(join(tmpdir(), 'solar-scale-'));
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  const queue = new TaskQueue({ connection: redis, prefix, catalog: testRegistry().catalog });
  await queue.waitUntilReady();
  cleanups.push(async () => {
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  /** A real worker process (the production entry point, serving the test tasks). */
  const spawnWorker = (env: Record<string, string> = {}): WorkerChild => {
    const log = join(dir, `runs-${n++}.jsonl`);
    const child = spawn(tsx, ['--conditions=@solar-tasks/source', fixture], {
      env: {
        ...process.env,
        REDIS_URL: testRedisUrl(),
        REDIS_PREFIX: prefix,
        WORKER_CONCURRENCY: '2',
        LOG_LEVEL: 'warn',
        RUN_LOG: log,
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    });
    return {
      child,
      runs: () =>
        existsSync(log)
          ? readFileSync(log, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as Run)
          : [],
    };
  };
  const workersOn = (name: string) => queue.bullQueue(name).getWorkersCount();
  const completed = async () => (await queue.stats()).totals.completed;
  return { queue, spawnWorker, workersOn, completed };
}

describe('horizontal scale', () => {
  it('shares one queue among three worker processes and runs each task exactly once', async () => {
    const { queue, spawnWorker, workersOn, completed } = await setup();
    const workers = [spawnWorker(), spawnWorker(), spawnWorker()];
    await waitFor(
      'three worker processes serve the default queue',
      async () => (await workersOn('default')) >= 3,
      {
        timeoutMs: 30_000,
      },
    );

    const ids: string[] = [];
    for (let i = 0; i < 60; i++)
      ids.push((await queue.enqueue({ task_name: 'sleep_ms', args: [25] })).taskId);
    await waitFor('all 60 tasks complete', async () => (await completed()) === 60, { timeoutMs: 30_000 });

    const runs = workers.flatMap((w) => w.runs());
    const perTask = new Map<string, number>();
    for (const r of runs) perTask.set(r.taskId, (perTask.get(r.taskId) ?? 0) + 1);
    expect([...perTask.keys()].sort()).toEqual([...ids].sort());
    expect([...perTask.values()].every((count) => count === 1)).toBe(true);
    // Each process can run only 2 at a time, so every one of them took a share.
    for (const w of workers) expect(w.runs().length).toBeGreaterThan(0);
  });

  it('serves a queue with a dedicated worker group chosen by WORKER_QUEUES', async () => {
    const { queue, spawnWorker, workersOn, completed } = await setup();
    const general = spawnWorker({ WORKER_QUEUES: 'default' });
    const mailers = spawnWorker({ WORKER_QUEUES: 'email,reports' });
    await waitFor(
      'each group serves its queues',
      async () => (await workersOn('default')) === 1 && (await workersOn('email')) === 1,
      { timeoutMs: 30_000 },
    );

    for (let i = 0; i < 10; i++) {
      await queue.enqueue({ task_name: 'add_numbers', args: [i, i] });
      await queue.enqueue({ task_name: 'echo_email', args: [`mail ${i}`] });
      await queue.enqueue({ task_name: 'echo_report', args: [`report ${i}`] });
    }
    await waitFor('all 30 tasks complete', async () => (await completed()) === 30, { timeoutMs: 30_000 });

    expect(new Set(general.runs().map((r) => r.task))).toEqual(new Set(['add_numbers']));
    expect(general.runs()).toHaveLength(10);
    expect(new Set(mailers.runs().map((r) => r.task))).toEqual(new Set(['echo_email', 'echo_report']));
    expect(mailers.runs()).toHaveLength(20);
  });
});
