import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask, TaskCatalog } from '@solar-tasks/contract';
import type { RedisClient } from '@solar-tasks/queue';
import { z } from 'zod';
import { PermanentTaskError } from '../errors/permanent-task-error.js';
import { TaskRegistry } from '../task-registry.js';

/**
 * Tasks for tests: small, observable, each exercising one behaviour of the
 * worker. Every run is recorded in `runs` so tests can assert what ran, when
 * and how often.
 */
export const addNumbers = defineTask({
  name: 'add_numbers',
  description: 'Adds two numbers',
  args: z.object({ a: z.number(), b: z.number() }),
});
export const recordLabel = defineTask({
  name: 'record_label',
  description: 'Records its label (ordering tests)',
  args: z.object({ label: z.string() }),
});
export const flaky = defineTask({
  name: 'flaky',
  description: 'Fails its first `fail_times` attempts',
  args: z.object({ fail_times: z.int().min(0) }),
});
export const permanentFailure = defineTask({
  name: 'permanent_failure',
  description: 'Throws PermanentTaskError',
  args: z.object({}),
});
export const sleepTask = defineTask({
  name: 'sleep_ms',
  description: 'Sleeps, honouring its abort signal',
  args: z.object({ ms: z.int().min(0) }),
  defaults: { timeout: 60 },
});
export const hang = defineTask({
  name: 'hang',
  description: 'Never returns; a 1 s timeout stops it',
  args: z.object({}),
  defaults: { timeout: 1, maxRetries: 1, retryDelay: 0.05 },
});

/** Tasks on the other queues, for tests about queues living apart (worker groups, Cluster slots). */
export const echoEmail = defineTask({
  name: 'echo_email',
  description: 'Echoes its text, on the email queue',
  args: z.object({ text: z.string() }),
  queue: 'email',
});
export const echoReport = defineTask({
  name: 'echo_report',
  description: 'Echoes its text, on the reports queue',
  args: z.object({ text: z.string() }),
  queue: 'reports',
});
export const recordRun = defineTask({
  name: 'record_run',
  description: 'Sleeps `sleep_ms`, then counts its run in Redis (fault tests: lost and duplicated runs)',
  args: z.object({ sleep_ms: z.int().min(0).default(0) }),
  defaults: { timeout: 60 },
});
export const poison = defineTask({
  name: 'poison',
  description: 'Counts its run, then throws from a timer: the uncaught exception kills its worker process',
  args: z.object({ after_ms: z.int().min(0).default(20) }),
  defaults: { timeout: 60 },
});

export const testTasks = [
  addNumbers,
  recordLabel,
  flaky,
  permanentFailure,
  sleepTask,
  hang,
  echoEmail,
  echoReport,
  recordRun,
  poison,
];

/**
 * The Redis hash where `record_run` and `poison` count runs: field = task id,
 * value = runs that finished their work (a value above 1 is a duplicate run).
 */
export function runsKey(prefix: string): string {
  return `${prefix}:fixture:runs`;
}

/** One recorded handler run. */
export interface Run {
  task: string;
  taskId: string;
  attempt: number;
  startedAt: number;
  label?: string;
}

/** Options of {@link testRegistry} and {@link registerTestTasks}. */
export interface TestRegistryOptions {
  /** Where `record_run` and `poison` count their runs; without it they fail permanently. */
  redis?: RedisClient;
  /**
   * Keep every run in `runs` (in-process tests read it). A long-running
   * fixture process turns it off: the log grows by one entry per task.
   * @defaultValue true
   */
  logRuns?: boolean;
  /** Hears every run too (a worker process writes them where its test can read). */
  onRun?: (run: Run) => void;
}

/** The catalog and a registry for {@link testTasks}, plus the shared run log. */
export function testRegistry(runs: Run[] = [], options: TestRegistryOptions = {}) {
  const registry = registerTestTasks(new TaskRegistry(), runs, options);
  return { registry, catalog: new TaskCatalog(testTasks), runs };
}

/** Registers the {@link testTasks} handlers on `registry` (beside built-in ones, say), recording into `runs`. */
export function registerTestTasks(
  registry: TaskRegistry,
  runs: Run[] = [],
  options: TestRegistryOptions = {},
): TaskRegistry {
  const logRuns = options.logRuns ?? true;
  const note = (task: string, ctx: { taskId: string; attempt: number }, label?: string) => {
    const run: Run = {
      task,
      taskId: ctx.taskId,
      attempt: ctx.attempt,
      startedAt: Date.now(),
      ...(label ? { label } : {}),
    };
    if (logRuns) runs.push(run);
    options.onRun?.(run);
  };
  const countRun = async (ctx: { taskId: string; queue: { prefix: string } }) => {
    if (!options.redis) throw new PermanentTaskError('this test registry has no Redis to count runs in');
    return options.redis.hincrby(runsKey(ctx.queue.prefix), ctx.taskId, 1);
  };
  return registry
    .register(addNumbers, (args, ctx) => {
      note('add_numbers', ctx);
      return { sum: args.a + args.b };
    })
    .register(recordLabel, (args, ctx) => {
      note('record_label', ctx, args.label);
      return { label: args.label };
    })
    .register(flaky, (args, ctx) => {
      note('flaky', ctx);
      if (ctx.attempt <= args.fail_times) throw new Error(`flaky failure ${ctx.attempt}`);
      return { succeeded_on: ctx.attempt };
    })
    .register(permanentFailure, (_args, ctx) => {
      note('permanent_failure', ctx);
      throw new PermanentTaskError('recipient rejected');
    })
    .register(sleepTask, async (args, ctx) => {
      note('sleep_ms', ctx);
      await sleep(args.ms, undefined, { signal: ctx.signal });
      return { slept: args.ms };
    })
    .register(hang, (_args, ctx) => {
      note('hang', ctx);
      return new Promise(() => {});
    })
    .register(echoEmail, (args, ctx) => {
      note('echo_email', ctx, args.text);
      return { text: args.text };
    })
    .register(echoReport, (args, ctx) => {
      note('echo_report', ctx, args.text);
      return { text: args.text };
    })
    .register(recordRun, async (args, ctx) => {
      note('record_run', ctx);
      if (args.sleep_ms > 0) await sleep(args.sleep_ms, undefined, { signal: ctx.signal });
      // Counted after the work, like a side effect: a worker killed between
      // this write and BullMQ's completion makes a duplicate (at-least-once).
      return { runs: await countRun(ctx) };
    })
    .register(poison, async (args, ctx) => {
      note('poison', ctx);
      await countRun(ctx);
      setTimeout(() => {
        throw new Error(`poison task ${ctx.taskId} threw from a timer`);
      }, args.after_ms);
      await sleep(60_000, undefined, { signal: ctx.signal });
    });
}
