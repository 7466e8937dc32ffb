import { builtinTasks, TaskApiError, TaskCatalog, type TaskStatusResponse } from '@solar-tasks/contract';
import {
  type CleanupStatus,
  createRedisConnection,
  listSchedules,
  type RedisClient,
  redisSettingsFrom,
  TaskQueue,
} from '@solar-tasks/queue';
import { SettingsError, taskDefaultsFrom } from '@solar-tasks/runtime';
import { SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadWorkerSettings, type WorkerSettings } from '../env.js';
import { startWorkerProcess } from '../worker-process.js';
import { createOutput, details, type Output, table } from './output.js';
import { processLimited, succeeded } from './process-tasks.js';

/**
 * The `tasks` command line: process, cleanup, enqueue, status, stats, retry,
 * cancel, schedules. Exit codes: 0 done, 1 the operation failed (a task
 * failed, not found, Redis unreachable), 2 usage error (a bad option or
 * argument, named in the message). See docs/cli.md.
 */

/** A usage error: exit 2 with a message naming the option. */
export class UsageError extends Error {}

/** Exit code of a run. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where the CLI reads settings and writes output; tests swap these. */
export interface CliIo {
  /** Settings source; the process environment (read by env.ts) when unset. */
  env?: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const intIn =
  (name: string, min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };

const numIn =
  (name: string, min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
    return n;
  };

const jsonOf =
  (name: string, kind: 'array' | 'object') =>
  (value: string): unknown => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidArgumentError(`${name} must be valid JSON`);
    }
    const ok =
      kind === 'array'
        ? Array.isArray(parsed)
        : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    if (!ok) throw new InvalidArgumentError(`${name} must be a JSON ${kind}`);
    return parsed;
  };

/** Connects a short-lived queue client; fails fast when Redis is unreachable. */
async function openQueue(
  settings: WorkerSettings,
): Promise<{ queue: TaskQueue; close: () => Promise<void> }> {
  let lastError = '';
  const connection: RedisClient = createRedisConnection(redisSettingsFrom(settings), 'api', (err) => {
    lastError = err.message;
  });
  const queue = new TaskQueue({
    connection,
    prefix: settings.REDIS_PREFIX,
    catalog: new TaskCatalog(builtinTasks),
    defaults: taskDefaultsFrom(settings),
    retentionDays: settings.TASK_CLEANUP_DAYS,
  });
  const close = async () => {
    await queue.close().catch(() => {});
    await connection.quit().catch(() => connection.disconnect());
  };
  let timer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    queue.waitUntilReady().then(() => true),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), 5000);
    }),
  ]);
  clearTimeout(timer);
  if (!ready) {
    connection.disconnect();
    throw new Error(`cannot reach Redis${lastError ? `: ${lastError}` : ''}`);
  }
  return { queue, close };
}

function statusRows(tasks: TaskStatusResponse[]) {
  return table(
    ['task id', 'task', 'status', 'attempts', 'created', 'finished', 'error'],
    tasks.map((t) => [
      t.task_id,
      t.task_name,
      t.status,
      `${t.attempts}/${t.max_retries + 1}`,
      t.created_at,
      t.finished_at,
      t.error?.slice(0, 60),
    ]),
  );
}

function statusDetails(t: TaskStatusResponse) {
  return details(Object.entries(t));
}

/**
 * Builds the program. Actions set `state.code`; nothing calls process.exit
 * here, so tests can run commands in-process too.
 */
export function buildProgram(io: CliIo, state: { code: number }): Command {
  let settingsCache: WorkerSettings | undefined;
  const settings = () => {
    settingsCache ??= io.env ? loadWorkerSettings(io.env) : loadWorkerSettings();
    return settingsCache;
  };
  const output = (cmd: Command): Output =>
    createOutput(Boolean(cmd.optsWithGlobals().json), io.stdout, io.stderr);
  /** Runs `fn` with an open queue, closing it afterwards. */
  const withQueue = async <T>(fn: (queue: TaskQueue) => Promise<T>): Promise<T> => {
    const { queue, close } = await openQueue(settings());
    try {
      return await fn(queue);
    } finally {
      await close();
    }
  };

  const program = new Command('tasks')
    .description('Operate Solar Tasks: run workers, clean up, enqueue and inspect tasks.')
    .option('--json', 'print JSON for scripts instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();

  program
    .command('process')
    .description('Run tasks: at most N and exit (--limit), or until SIGTERM/SIGINT (--daemon)')
    .option('--limit <n>', 'process at most N ready tasks, then exit', intIn('--limit', 1, 1_000_000))
    .option('--daemon', 'run until SIGTERM/SIGINT, with periodic housekeeping')
    .option('--queues <names>', 'comma-separated queues to serve (default: WORKER_QUEUES, or all)')
    .option(
      '--interval <seconds>',
      'daemon: seconds between housekeeping runs (cleanup)',
      numIn('--interval', 1, 86_400),
      300,
    )
    .option(
      '--concurrency <n>',
      'tasks run at once per queue (default: WORKER_CONCURRENCY)',
      intIn('--concurrency', 1, 1000),
    )
    .action(async (opts, cmd: Command) => {
      if ((opts.limit === undefined) === (opts.daemon === undefined))
        throw new UsageError('process needs exactly one of --limit <n> or --daemon');
      const base = settings();
      const known = new TaskCatalog(builtinTasks).queues();
      let queues = base.WORKER_QUEUES;
      if (opts.queues !== undefined) {
        queues = String(opts.queues)
          .split(',')
          .map((q) => q.trim())
          .filter(Boolean);
        const unknown = queues.filter((q) => !known.includes(q));
        if (queues.length === 0 || unknown.length > 0)
          throw new UsageError(
            `--queues: unknown queue(s) ${unknown.join(', ') || '(none given)'}; known: ${known.join(', ')}`,
          );
      }
      const s: WorkerSettings = {
        ...base,
        WORKER_QUEUES: queues,
        WORKER_CONCURRENCY: opts.concurrency ?? base.WORKER_CONCURRENCY,
      };
      const out = output(cmd);
      if (opts.limit !== undefined) {
        const summary = await processLimited(s, opts.limit);
        out.result(summary, () => {
          const { processed, succeeded: ok, retried, failed, cancelled, handed_back } = summary;
          return `processed ${processed} task(s): ${ok} succeeded, ${retried} retried, ${failed} failed, ${cancelled} cancelled${handed_back ? `, ${handed_back} handed back` : ''}`;
        });
        state.code = succeeded(summary) ? EXIT.ok : EXIT.failed;
        return;
      }
      await runDaemon(s, opts.interval);
    });

  program
    .command('cleanup')
    .description('Remove finished tasks older than N days (default TASK_CLEANUP_DAYS)')
    .option('--days <n>', 'age in days (fractions allowed)', numIn('--days', 0, 3650))
    .addOption(
      new Option('--status <status>', 'which finished tasks')
        .choices(['completed', 'failed', 'all'])
        .default('all'),
    )
    .option('--dry-run', 'count what would be removed, remove nothing')
    .option('--batch <n>', 'tasks removed per Redis call', intIn('--batch', 1, 10_000), 1000)
    .action(async (opts, cmd: Command) => {
      const out = output(cmd);
      const days: number = opts.days ?? settings().TASK_CLEANUP_DAYS;
      const bar =
        !out.json && io.stderr.isTTY
          ? new SingleBar({
              format: 'cleanup [{bar}] {value}/{total} tasks',
              stream: io.stderr,
              hideCursor: true,
            })
          : undefined;
      const result = await withQueue((queue) =>
        queue.cleanup({
          olderThanDays: days,
          status: opts.status as CleanupStatus,
          dryRun: Boolean(opts.dryRun),
          batchSize: opts.batch,
          onProgress: ({ removed, total }) => {
            if (!bar) return;
            if (removed === 0) bar.start(total, 0);
            else bar.update(removed, { total });
          },
        }),
      );
      bar?.stop();
      out.result({ ...result, days, status: opts.status }, () => {
        const verb = result.dryRun ? 'would remove' : 'removed';
        const rows = Object.entries(result.queues).map(([q, c]) => [q, c.completed, c.failed]);
        return `${table(['queue', 'completed', 'failed'], rows)}\n${verb} ${result.removed} task(s) finished before ${result.cutoff}`;
      });
    });

  program
    .command('enqueue')
    .description('Queue a task')
    .argument('<task>', 'task name (see `tasks stats` or GET /api/tasks/list/)')
    .option('--args <json>', 'positional arguments, a JSON array', jsonOf('--args', 'array'))
    .option('--kwargs <json>', 'keyword arguments, a JSON object', jsonOf('--kwargs', 'object'))
    .option('--priority <p>', '1 (highest) to 10 (lowest)', intIn('--priority', 1, 10))
    .option('--max-retries <r>', 'retries after the first attempt', intIn('--max-retries', 0, 100))
    .option(
      '--retry-delay <s>',
      'seconds before the first retry (doubles each time)',
      numIn('--retry-delay', 0, 7 * 86_400),
    )
    .option('--eta <iso>', 'run at this ISO-8601 instant')
    .option('--countdown <s>', 'run after this many seconds', numIn('--countdown', 0, 366 * 86_400))
    .option('--idempotency-key <key>', 'the same key never queues a second task')
    .action(async (task: string, opts, cmd: Command) => {
      if (opts.eta !== undefined && opts.countdown !== undefined)
        throw new UsageError('give --eta or --countdown, not both');
      const result = await withQueue((queue) =>
        queue.enqueue({
          task_name: task,
          args: opts.args,
          kwargs: opts.kwargs,
          priority: opts.priority,
          max_retries: opts.maxRetries,
          retry_delay: opts.retryDelay,
          eta: opts.eta,
          countdown: opts.countdown,
          idempotency_key: opts.idempotencyKey,
        }),
      );
      const view = {
        task_id: result.taskId,
        task_name: result.taskName,
        status: result.status,
        created: result.created,
      };
      output(cmd).result(view, () => details(Object.entries(view)));
    });

  program
    .command('status')
    .description("Show a task's status")
    .argument('<id>', 'task id')
    .action(async (id: string, _opts, cmd: Command) => {
      const status = await withQueue((queue) => queue.getStatus(id));
      if (!status) throw new TaskApiError('TASK_NOT_FOUND', `no task with id ${id}`);
      output(cmd).result(status, () => statusDetails(status));
    });

  program
    .command('list')
    .description('List tasks, one page at a time')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'pending',
        'scheduled',
        'running',
        'retrying',
        'completed',
        'failed',
        'cancelled',
      ]),
    )
    .option('--task <name>', 'only this task name')
    .option('--limit <n>', 'tasks per page', intIn('--limit', 1, 500), 50)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (opts, cmd: Command) => {
      const page = await withQueue((queue) =>
        queue.list({ status: opts.status, task_name: opts.task, limit: opts.limit, cursor: opts.cursor }),
      );
      output(cmd).result(page, () =>
        [
          statusRows(page.tasks),
          page.next_cursor ? `next page: --cursor ${page.next_cursor}` : '(last page)',
        ].join('\n'),
      );
    });

  program
    .command('stats')
    .description('Counts by queue and status, and lifetime totals by task')
    .action(async (_opts, cmd: Command) => {
      const stats = await withQueue((queue) => queue.stats());
      output(cmd).result(stats, () => {
        const queues = table(
          ['queue', 'pending', 'scheduled', 'running', 'completed', 'failed', 'paused'],
          Object.entries(stats.queues).map(([q, c]) => [
            q,
            c.pending,
            c.scheduled,
            c.running,
            c.completed,
            c.failed,
            c.paused,
          ]),
        );
        const tasks = table(
          ['task', 'enqueued', 'completed', 'failed', 'retried', 'cancelled'],
          Object.entries(stats.tasks).map(([t, c]) => [
            t,
            c.enqueued,
            c.completed,
            c.failed,
            c.retried,
            c.cancelled,
          ]),
        );
        return `${queues}\n${tasks}`;
      });
    });

  program
    .command('retry')
    .description('Run a failed or cancelled task again (or every failed task with --failed)')
    .argument('[id]', 'task id')
    .option('--failed', 'retry every failed task')
    .action(async (id: string | undefined, opts, cmd: Command) => {
      if ((id === undefined) === (opts.failed === undefined))
        throw new UsageError('retry needs a task id or --failed (not both)');
      const out = output(cmd);
      if (id !== undefined) {
        const status = await withQueue((queue) => queue.retry(id));
        out.result(status, () => statusDetails(status));
        return;
      }
      const retried = await withQueue(async (queue) => {
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await queue.list({ status: 'failed', limit: 500, cursor });
          for (const t of page.tasks) {
            await queue.retry(t.task_id);
            ids.push(t.task_id);
          }
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        return ids;
      });
      out.result(
        { retried: retried.length, task_ids: retried },
        () => `retried ${retried.length} failed task(s)`,
      );
    });

  program
    .command('cancel')
    .description('Cancel a task that has not finished')
    .argument('<id>', 'task id')
    .action(async (id: string, _opts, cmd: Command) => {
      const status = await withQueue((queue) => queue.cancel(id));
      output(cmd).result(status, () => statusDetails(status));
    });

  program
    .command('schedules')
    .description('Periodic schedules stored in Redis (from SCHEDULES_FILE)')
    .action(async (_opts, cmd: Command) => {
      const schedules = await withQueue((queue) => listSchedules(queue));
      output(cmd).result({ schedules }, () =>
        schedules.length === 0
          ? 'no schedules (set SCHEDULES_FILE and start a worker)'
          : table(
              ['name', 'task', 'queue', 'when', 'next run', 'arguments'],
              schedules.map((s) => [
                s.name,
                s.task_name,
                s.queue,
                s.cron ? `${s.cron} (${s.tz})` : `every ${(s.every_ms ?? 0) / 1000} s`,
                s.next_run_at,
                JSON.stringify(s.arguments),
              ]),
            ),
      );
    });

  return program;
}

/**
 * The worker process until SIGTERM/SIGINT, graceful; every `intervalSeconds`
 * housekeeping removes finished tasks older than TASK_CLEANUP_DAYS.
 */
async function runDaemon(settings: WorkerSettings, intervalSeconds: number): Promise<void> {
  const running = await startWorkerProcess(settings);
  const { logger, queue } = running;
  process.on('uncaughtException', (err) => {
    // As in the worker's main: a handler threw outside its promise; the state
    // is unknown, so exit and let BullMQ's stalled check hand its tasks on.
    logger.fatal({ err }, 'uncaught exception; exiting');
    logger.flush();
    process.exit(1);
  });
  let housekeeping: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    housekeeping = queue
      .cleanup({ olderThanDays: settings.TASK_CLEANUP_DAYS })
      .then((r) => logger.info({ removed: r.removed, cutoff: r.cutoff }, 'housekeeping: cleanup done'))
      .catch((err) => logger.warn({ err }, 'housekeeping: cleanup failed'));
  }, intervalSeconds * 1000);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'stopping');
  clearInterval(timer);
  await housekeeping;
  await running.stop();
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const state = { code: EXIT.ok as number };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version print and exit 0; every other parse error is a usage error.
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.help' ||
        err.code === 'commander.version'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    const json = argv.includes('--json');
    const fail = (code: number, body: Record<string, unknown>, line: string) => {
      if (json) io.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
      io.stderr.write(`error: ${line}\n`);
      return code;
    };
    if (err instanceof UsageError)
      return fail(
        EXIT.usage,
        { code: 'USAGE', message: err.message },
        `${err.message} (run with --help for usage)`,
      );
    if (err instanceof SettingsError)
      return fail(EXIT.usage, { code: 'SETTINGS', message: err.message }, err.message);
    if (err instanceof TaskApiError) {
      const usage = ['VALIDATION_ERROR', 'INVALID_ARGUMENTS', 'UNKNOWN_TASK', 'INVALID_TASK_ID'].includes(
        err.code,
      );
      return fail(
        usage ? EXIT.usage : EXIT.failed,
        { code: err.code, message: err.message, details: err.details },
        `${err.code}: ${err.message}`,
      );
    }
    return fail(EXIT.failed, { code: 'FAILED', message: (err as Error).message }, (err as Error).message);
  }
}
