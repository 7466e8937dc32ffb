import { PassThrough } from 'node:stream';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, type RedisClient, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';

let redis: RedisClient;
let queue: TaskQueue;
let prefix: string;

beforeAll(async () => {
  prefix = uniquePrefix('cli-progress');
  redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog(builtinTasks) });
  await queue.waitUntilReady();
});

afterAll(async () => {
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

/** A stream that says it is a terminal, and keeps what was written. */
function terminal() {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
  let text = '';
  stream.on('data', (d) => {
    text += d;
  });
  return { stream, text: () => text };
}

describe('tasks cleanup on a terminal', () => {
  it('draws a progress bar on stderr up to the total, and none with --json', async () => {
    for (let i = 0; i < 30; i++)
      await queue.enqueue({
        task_name: 'send_email',
        kwargs: { to: `p${i}@example.com`, subject: 's', text: 't' },
      });
    const worker = new Worker('email', async () => 'ok', {
      connection: redis,
      prefix: queue.keys.queuePrefix('email'),
      concurrency: 10,
    });
    await waitFor('30 tasks completed', async () => (await queue.stats()).queues.email!.completed === 30);
    await worker.close();
    await new Promise((r) => setTimeout(r, 5));

    const env = { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' };
    const out = terminal();
    const err = terminal();
    const code = await runCli(['cleanup', '--days', '0', '--batch', '7'], {
      env,
      stdout: out.stream,
      stderr: err.stream,
    });
    expect(code).toBe(0);
    expect(err.text()).toMatch(/cleanup \[[^\]]*\] 30\/30 tasks/);
    expect(out.text()).toMatch(/removed 30 task\(s\) finished before /);

    const quiet = terminal();
    const json = terminal();
    expect(
      await runCli(['cleanup', '--days', '0', '--json'], { env, stdout: json.stream, stderr: quiet.stream }),
    ).toBe(0);
    expect(quiet.text()).toBe('');
    expect(JSON.parse(json.text())).toMatchObject({ removed: 0, dryRun: false });
  });
});
