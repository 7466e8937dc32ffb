/**
 * Sizing figures for docs/operations.md: tasks/s of worker processes, and
 * tasks per second of Redis CPU time, on this machine.
 *
 *   pnpm --filter @solar-tasks/topology-tests measure [tasks=5000] [processes=1,2] [concurrency=10]
 *
 * Starts its own redis-server (AOF on, everysec: production settings) on a
 * free loopback port, queues `tasks` no-op tasks (add_numbers) with the queue
 * paused, starts real worker processes (the production entry point serving
 * the test tasks), resumes the queue and times the run until all are
 * completed. Redis CPU is read from /proc for both phases. Task bodies
 * do nothing, so the figures are the system's overhead per task: real
 * handlers add their own time on top (divide by it, not into it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { startRedisServer, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { testRegistry } from '@solar-tasks/worker/test-fixtures';

const [tasksArg = '5000', processesArg = '1,2', concurrencyArg = '10'] = process.argv.slice(2);
const TASKS = Number(tasksArg);
const PROCESS_COUNTS = processesArg.split(',').map(Number);
const CONCURRENCY = Number(concurrencyArg);

const fixture = fileURLToPath(
  new URL('../../../services/worker/src/test-fixtures/worker-process.ts', import.meta.url),
);
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const redis = await startRedisServer({ appendonly: true, appendfsync: 'everysec' });
const results: Record<string, unknown>[] = [];
try {
  for (const processes of PROCESS_COUNTS) {
    const prefix = uniquePrefix('measure');
    const connection = createRedisConnection({ url: redis.url, prefix }, 'worker');
    const queue = new TaskQueue({ connection, prefix, catalog: testRegistry().catalog });
    await queue.waitUntilReady();
    const bull = queue.bullQueue('default');
    await bull.pause();

    const enqueueCpuBefore = cpuSeconds(redis.process.pid!);
    const enqueueStart = performance.now();
    for (let i = 0; i < TASKS; i += 100) {
      const batch = Math.min(100, TASKS - i);
      await Promise.all(
        Array.from({ length: batch }, (_, j) => queue.enqueue({ task_name: 'add_numbers', args: [i, j] })),
      );
    }
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
    const enqueueRedisCpu = cpuSeconds(redis.process.pid!) - enqueueCpuBefore;

    const children: ChildProcess[] = [];
    for (let p = 0; p < processes; p++) {
      children.push(
        spawn(tsx, ['--conditions=@solar-tasks/source', fixture], {
          env: {
            // biome-ignore lint/style/noProcessEnv: the workers it starts inherit its environment (PATH…) plus their settings
            ...process.env,
            REDIS_URL: redis.url,
            REDIS_PREFIX: prefix,
            WORKER_CONCURRENCY: String(CONCURRENCY),
            WORKER_QUEUES: 'default',
            LOG_LEVEL: 'error',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
    }
    await waitFor(
      'the worker processes are connected',
      async () => (await bull.getWorkersCount()) >= processes,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );

    const cpuBefore = cpuSeconds(redis.process.pid!);
    const start = performance.now();
    await bull.resume();
    await waitFor(
      'every task completes',
      async () => (await bull.getJobCounts('completed')).completed === TASKS,
      {
        timeoutMs: 600_000,
        intervalMs: 50,
      },
    );
    const seconds = (performance.now() - start) / 1000;
    const redisCpu = cpuSeconds(redis.process.pid!) - cpuBefore;

    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => once(c, 'exit')));
    await queue.close();
    connection.disconnect();

    results.push({
      worker_processes: processes,
      concurrency_per_process: CONCURRENCY,
      tasks: TASKS,
      enqueue_tasks_per_s: Math.round(TASKS / enqueueSeconds),
      run_seconds: Number(seconds.toFixed(2)),
      tasks_per_s: Math.round(TASKS / seconds),
      tasks_per_s_per_process: Math.round(TASKS / seconds / processes),
      redis_cpu_seconds_enqueue: Number(enqueueRedisCpu.toFixed(2)),
      redis_cpu_seconds_run: Number(redisCpu.toFixed(2)),
      // Whole life of a task (enqueue + fetch + complete) per second of one Redis core.
      tasks_per_redis_cpu_second: Math.round(TASKS / (enqueueRedisCpu + redisCpu)),
    });
  }
} finally {
  await redis.stop({ removeData: true });
}
console.log(JSON.stringify({ machine: { cpus: (await import('node:os')).cpus().length }, results }, null, 2));
