import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, type RedisClient, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess as runCli } from '../test-fixtures/cli-process.js';
import { runCli as runCliInProcess } from './program.js';

let redis: RedisClient;
let queue: TaskQueue;
let prefix: string;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  prefix = uniquePrefix('cli');
  dataDir = mkdtempSync(join(tmpdir(), 'solar-cli-'));
  env = {
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    WORKER_SHUTDOWN_GRACE: '5',
  };
  redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog(builtinTasks) });
  await queue.waitUntilReady();
});

afterAll(async () => {
  await queue.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
  rmSync(dataDir, { recursive: true, force: true });
});

const email = (i: number) => ({ to: `p${i}@example.com`, subject: `s${i}`, text: 'hello' });

/** A TCP port that refuses connections: an SMTP server that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function drainEmailQueue() {
  await queue.bullQueue('email').obliterate({ force: true });
}

describe('tasks CLI', () => {
  it('process --limit runs at most N ready tasks, prints counts and exits 0', async () => {
    await drainEmailQueue();
    for (let i = 0; i < 5; i++) await queue.enqueue({ task_name: 'send_email', kwargs: email(i) });
    const run = await runCli(['process', '--limit', '3', '--queues', 'email'], env);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('processed 3 task(s): 3 succeeded, 0 retried, 0 failed, 0 cancelled');
    const counts = (await queue.stats()).queues.email!;
    expect(counts).toMatchObject({ completed: 3, pending: 2, running: 0 });

    // Fewer ready than the limit: runs them and exits as soon as the queue is empty.
    const rest = await runCli(['process', '--limit', '50', '--json'], env);
    expect(rest.code).toBe(0);
    expect(JSON.parse(rest.stdout)).toEqual({
      processed: 2,
      succeeded: 2,
      retried: 0,
      failed: 0,
      cancelled: 0,
      handed_back: 0,
    });
  }, 120_000);

  it('process --limit exits 1 when a task failed for good, 0 when it was only retried by policy', async () => {
    await drainEmailQueue();
    const smtpDown = { ...env, SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`, SMTP_TIMEOUT: '2' };
    const retried = await queue.enqueue({ task_name: 'send_email', kwargs: email(1), max_retries: 2 });
    const first = await runCli(['process', '--limit', '1', '--json'], smtpDown);
    expect(JSON.parse(first.stdout)).toMatchObject({ processed: 1, retried: 1, failed: 0 });
    expect(first.code).toBe(0);
    expect((await queue.getStatus(retried.taskId))?.status).toBe('retrying');
    await queue.cancel(retried.taskId);

    await queue.enqueue({ task_name: 'send_email', kwargs: email(2), max_retries: 0 });
    const failed = await runCli(['process', '--limit', '5'], smtpDown);
    expect(failed.stdout).toMatch(/processed 1 task\(s\): 0 succeeded, 0 retried, 1 failed, 1 cancelled/);
    expect(failed.code).toBe(1);
  }, 120_000);

  it('exits 2 on usage errors, naming the bad option', async () => {
    const cases: [string[], RegExp][] = [
      [['process'], /exactly one of --limit <n> or --daemon/],
      [['process', '--limit', '0'], /--limit must be a whole number from 1/],
      [['process', '--limit', '2', '--queues', 'nope'], /--queues: unknown queue\(s\) nope/],
      [['cleanup', '--status', 'old'], /--status <status>.*Allowed choices are completed, failed, all/],
      [['cleanup', '--days', 'x'], /--days must be a number/],
      [['enqueue', 'send_email', '--kwargs', '[1]'], /--kwargs must be a JSON object/],
      [
        ['enqueue', 'send_email', '--eta', '2030-01-01T00:00:00Z', '--countdown', '5'],
        /--eta or --countdown/,
      ],
      [['enqueue', 'nope'], /UNKNOWN_TASK/],
      [['enqueue', 'send_email', '--kwargs', '{"to":"x"}'], /kwargs\.to/],
      [['status', '../etc'], /INVALID_TASK_ID/],
      [['retry'], /a task id or --failed/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    // In-process (the same runCli the bin calls), to keep the suite quick; the
    // spawned runs below prove the real process exits with the same code.
    for (const [args, message] of cases) {
      const stderr = new PassThrough();
      let text = '';
      stderr.on('data', (d) => {
        text += d;
      });
      const code = await runCliInProcess(args, { env, stdout: new PassThrough(), stderr });
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(text).toMatch(message);
    }
    const [spawned, badSetting] = await Promise.all([
      runCli(['process', '--limit', 'ten'], env),
      runCli(['stats'], { ...env, TASK_CLEANUP_DAYS: 'soon' }),
    ]);
    expect(spawned.code).toBe(2);
    expect(spawned.stderr).toMatch(/option '--limit <n>' argument 'ten' is invalid/);
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr).toMatch(/TASK_CLEANUP_DAYS/);
  }, 120_000);

  it('enqueue, status, cancel, retry and stats, as tables and as --json', async () => {
    const enq = await runCli(
      [
        'enqueue',
        'send_email',
        '--kwargs',
        JSON.stringify(email(7)),
        '--priority',
        '2',
        '--countdown',
        '600',
        '--json',
      ],
      env,
    );
    expect(enq.code).toBe(0);
    const { task_id: id, status } = JSON.parse(enq.stdout);
    expect(status).toBe('scheduled');

    const human = await runCli(['status', id], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/│ status\s+│ scheduled/);
    expect(human.stdout).toMatch(/│ priority\s+│ 2/);

    const cancelled = await runCli(['cancel', id, '--json'], env);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ task_id: id, status: 'cancelled' });
    const again = await runCli(['retry', id, '--json'], env);
    expect(again.code).toBe(0);
    expect(['pending', 'scheduled']).toContain(JSON.parse(again.stdout).status);

    const missing = await runCli(['status', '00000000-0000-4000-8000-000000000000', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'TASK_NOT_FOUND' } });

    const stats = await runCli(['stats', '--json'], env);
    expect(JSON.parse(stats.stdout).tasks.send_email.enqueued).toBeGreaterThan(0);
    const schedules = await runCli(['schedules', '--json'], env);
    expect(JSON.parse(schedules.stdout)).toEqual({ schedules: [] });
  }, 120_000);

  it('retry --failed runs every failed task again', async () => {
    await drainEmailQueue();
    const smtpDown = { ...env, SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`, SMTP_TIMEOUT: '2' };
    for (let i = 0; i < 3; i++)
      await queue.enqueue({ task_name: 'send_email', kwargs: email(i), max_retries: 0 });
    expect((await runCli(['process', '--limit', '3'], smtpDown)).code).toBe(1);
    const retried = await runCli(['retry', '--failed', '--json'], env);
    expect(JSON.parse(retried.stdout).retried).toBe(3);
    expect((await queue.stats()).queues.email).toMatchObject({ failed: 0, pending: 3 });
    const done = await runCli(['process', '--limit', '3'], env);
    expect(done.stdout).toMatch(/3 succeeded/);
  }, 120_000);

  it('process --daemon runs tasks, cleans up every --interval and stops gracefully on SIGTERM', async () => {
    await drainEmailQueue();
    const daemonEnv = { ...env, LOG_LEVEL: 'info', TASK_CLEANUP_DAYS: '0.00001' }; // under a second
    const old = await queue.enqueue({ task_name: 'send_email', kwargs: email(1) });
    let stopSent = false;
    const run = await runCli(
      ['process', '--daemon', '--interval', '1', '--concurrency', '2'],
      daemonEnv,
      (child) => {
        void (async () => {
          await waitFor(
            'the daemon ran the first task',
            async () => (await queue.getStatus(old.taskId))?.status === 'completed',
            { timeoutMs: 20_000 },
          );
          // Housekeeping removes it once it is older than TASK_CLEANUP_DAYS.
          await waitFor(
            'housekeeping removed the finished task',
            async () => (await queue.getStatus(old.taskId)) === undefined,
            { timeoutMs: 20_000 },
          );
          stopSent = child.kill('SIGTERM');
        })().catch(() => child.kill('SIGKILL'));
      },
    );
    expect(stopSent).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/housekeeping: cleanup done/);
    expect(run.stdout).toMatch(/worker stopped/);
  }, 120_000);
});
