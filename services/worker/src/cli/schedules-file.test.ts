import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, parseSchedules, type RedisClient, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../test-fixtures/cli-process.js';

const example = resolve(import.meta.dirname, '../../../../config/schedules.example.yaml');

let redis: RedisClient;
let queue: TaskQueue;
let prefix: string;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  prefix = uniquePrefix('cli-sched');
  dir = mkdtempSync(join(tmpdir(), 'solar-sched-'));
  env = {
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
  };
  redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
  queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog(builtinTasks) });
  await queue.waitUntilReady();
});

afterAll(async () => {
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe('SCHEDULES_FILE', () => {
  it('the example file is valid against the built-in tasks', () => {
    const entries = parseSchedules(readFileSync(example, 'utf8'), queue, example);
    expect(entries.map((e) => e.name)).toEqual(['daily-task-summary', 'weekly-leads']);
  });

  it('a worker stops with exit 2 naming SCHEDULES_FILE, the entry and the field of a mistake', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'schedules:\n  - name: nightly\n    task: generate_report\n    kwargs: { kind: nope }\n    cron: "0 2 * * *"\n',
    );
    const run = await runCliProcess(['process', '--limit', '1'], { ...env, SCHEDULES_FILE: bad });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SCHEDULES_FILE/);
    expect(run.stderr).toMatch(/schedules\[0\] \(nightly\): kwargs\.kind:/);
  }, 60_000);

  it('workers upsert the file on start; the schedule runs and the CLI lists it', async () => {
    const file = join(dir, 'schedules.json');
    const to = '2026-01-02';
    writeFileSync(
      file,
      JSON.stringify({
        schedules: [
          {
            name: 'tick',
            task: 'generate_report',
            kwargs: { kind: 'task_summary', from: '2026-01-01', to },
            every: 1,
          },
        ],
      }),
    );
    const run = await runCliProcess(['process', '--limit', '5', '--queues', 'reports', '--json'], {
      ...env,
      SCHEDULES_FILE: file,
    });
    expect(run.code, run.stderr).toBe(0);
    // The first slot is due at once; the run ends when nothing more is ready.
    const summary = JSON.parse(run.stdout);
    expect(summary.processed).toBeGreaterThanOrEqual(1);
    expect(summary).toMatchObject({ succeeded: summary.processed, failed: 0 });
    const finished = (await queue.list({ status: 'completed' })).tasks;
    expect(finished[0]?.task_id).toMatch(/^repeat:tick:\d+$/);
    expect(await queue.getStatus(finished[0]!.task_id)).toMatchObject({ task_name: 'generate_report' });
    const listed = await runCliProcess(['schedules', '--json'], env);
    expect(JSON.parse(listed.stdout).schedules).toMatchObject([
      {
        name: 'tick',
        task_name: 'generate_report',
        queue: 'reports',
        every_ms: 1000,
        arguments: { kind: 'task_summary', to },
      },
    ]);
    const human = await runCliProcess(['schedules'], env);
    expect(human.stdout).toMatch(/│ tick\s+│ generate_report\s+│ reports\s+│ every 1 s/);
  }, 120_000);
});
