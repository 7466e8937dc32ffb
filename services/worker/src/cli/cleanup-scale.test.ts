import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, type RedisClient, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../test-fixtures/cli-process.js';

/** Finished tasks to clean (CLI_CLEANUP_TASKS for a bigger soak). */
const TASKS = Number(process.env.CLI_CLEANUP_TASKS ?? 100_000);
const DAY = 86_400_000;

/**
 * Writes finished jobs the way BullMQ's scripts leave them (a job hash plus
 * an entry in the `completed` or `failed` sorted set scored by finish time),
 * 10,000 per script call: running 100k tasks through workers would take
 * minutes on a loaded 2-core machine and test nothing more here.
 */
const WRITE_FINISHED = `
local jobPrefix, set = KEYS[1], KEYS[2]
local from, count, finished = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local failed = ARGV[4] == 'failed'
for i = from, from + count - 1 do
  local id = 'bulk-' .. i
  redis.call('HSET', jobPrefix .. id, 'name', 'send_email',
    'data', '{"v":1,"args":{"to":"a@example.com","subject":"s","text":"t"},"timeout":30}',
    'opts', '{"attempts":4,"backoff":{"type":"exponential","delay":60000}}',
    'timestamp', finished - 2000, 'delay', 0, 'priority', 5, 'processedOn', finished - 1000,
    'finishedOn', finished, 'atm', 1, 'ats', 1)
  if failed then redis.call('HSET', jobPrefix .. id, 'failedReason', 'boom')
  else redis.call('HSET', jobPrefix .. id, 'returnvalue', '"ok"') end
  redis.call('ZADD', set, finished, id)
end
return count`;

let redis: RedisClient;
let queue: TaskQueue;
let prefix: string;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  prefix = uniquePrefix('cli-scale');
  dataDir = mkdtempSync(join(tmpdir(), 'solar-cli-'));
  env = {
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
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

describe('tasks cleanup at scale', () => {
  it(`removes ${TASKS} old finished tasks in bounded memory and keeps recent ones`, async () => {
    const bull = queue.bullQueue('email');
    const jobPrefix = `${queue.keys.queuePrefix('email')}:email:`;
    const old = Date.now() - 3 * DAY;
    const started = Date.now();
    for (let from = 0; from < TASKS; from += 10_000) {
      const count = Math.min(10_000, TASKS - from);
      const state = from % 20_000 === 0 ? 'completed' : 'failed';
      await redis.eval(WRITE_FINISHED, 2, jobPrefix, bull.keys[state]!, from, count, old, state);
    }
    // Five recent ones that a 1-day cleanup must keep.
    await redis.eval(WRITE_FINISHED, 2, jobPrefix, bull.keys.completed!, TASKS, 5, Date.now(), 'completed');
    const built = Date.now() - started;

    const baseline = await runCliProcess(['stats', '--json'], env);
    expect(baseline.code).toBe(0);
    const dry = await runCliProcess(['cleanup', '--days', '1', '--dry-run', '--json'], env);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, removed: TASKS });

    const t0 = Date.now();
    const run = await runCliProcess(['cleanup', '--days', '1', '--json'], env);
    const tookMs = Date.now() - t0;
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.removed).toBe(TASKS);
    expect(result.queues.email.completed + result.queues.email.failed).toBe(TASKS);

    const counts = (await queue.stats()).queues.email!;
    expect(counts).toMatchObject({ completed: 5, failed: 0 });
    // Every old job hash is gone; only the five recent ones are left.
    const left: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${jobPrefix}bulk-*`, 'COUNT', 10_000);
      left.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    expect(left.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${jobPrefix}bulk-${TASKS + i}`));

    // Idempotent: nothing left to remove.
    const again = await runCliProcess(['cleanup', '--days', '1', '--json'], env);
    expect(JSON.parse(again.stdout).removed).toBe(0);

    const mb = (b: number) => Math.round(b / 1024 / 1024);
    console.info(
      `cleanup of ${TASKS} tasks: built in ${built} ms, removed in ${tookMs} ms; peak RSS ` +
        `${mb(run.peakRss)} MB (stats: ${mb(baseline.peakRss)} MB, dry run: ${mb(dry.peakRss)} MB)`,
    );
    // Memory is bounded by the batch, not by the number of tasks: holding
    // 100k jobs (or even their ids and a growing result) would show here.
    expect(run.peakRss).toBeGreaterThan(0);
    expect(run.peakRss - baseline.peakRss).toBeLessThan(40 * 1024 * 1024);
  }, 120_000);
});
