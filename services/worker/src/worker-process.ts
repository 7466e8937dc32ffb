import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import {
  createRedisConnection,
  describeRedis,
  loadSchedulesFile,
  type RedisClient,
  redisSettingsFrom,
  ScheduleConfigError,
  type ScheduleEntry,
  syncSchedules,
  TaskQueue,
  watchRedisConfig,
} from '@solar-tasks/queue';
import { createLogger, type Logger, SettingsError, taskDefaultsFrom } from '@solar-tasks/runtime';
import type { WorkerSettings } from './env.js';
import { builtinRegistry, type HandlerDeps } from './handlers/index.js';
import { Heartbeat } from './heartbeat.js';
import type { TaskRegistry } from './task-registry.js';
import { TaskWorker } from './task-worker.js';

/** A running worker and how to stop it. */
export interface WorkerProcess {
  worker: TaskWorker;
  queue: TaskQueue;
  logger: Logger;
  /** Graceful stop (see {@link TaskWorker.close}); closes Redis afterwards. */
  stop(): Promise<{ handedBack: string[] }>;
}

/** Overrides for tests and embedders: another catalog or registry than the built-in ones. */
export interface StartWorkerOptions {
  catalog?: TaskCatalog;
  registry?: TaskRegistry;
  logger?: Logger;
  /** Called with the worker before it starts consuming (to attach event listeners first). */
  beforeStart?: (worker: TaskWorker) => void;
}

/**
 * The built-in handlers' dependencies from settings. Reads the auto-reply
 * template file once, at start: a missing file stops the worker with a
 * message naming AUTO_REPLY_TEMPLATE rather than failing every enquiry.
 */
export function handlerDepsFrom(settings: WorkerSettings, redis: RedisClient): HandlerDeps {
  let autoReplyText: string | undefined;
  if (settings.AUTO_REPLY_TEMPLATE) {
    try {
      autoReplyText = readFileSync(resolve(settings.AUTO_REPLY_TEMPLATE), 'utf8');
    } catch (err) {
      throw new SettingsError([
        { variable: 'AUTO_REPLY_TEMPLATE', message: `cannot read it: ${(err as Error).message}` },
      ]);
    }
  }
  return {
    dataDir: resolve(settings.DATA_DIR),
    smtp: settings.SMTP_URL
      ? {
          url: settings.SMTP_URL,
          user: settings.SMTP_USER,
          password: settings.SMTP_PASSWORD,
          requireTls: settings.SMTP_REQUIRE_TLS,
          rejectUnauthorized: settings.SMTP_TLS_REJECT_UNAUTHORIZED,
          timeoutMs: settings.SMTP_TIMEOUT * 1000,
        }
      : undefined,
    smtpFrom: settings.SMTP_FROM,
    salesNotifyEmail: settings.SALES_NOTIFY_EMAIL,
    autoReply: settings.AUTO_REPLY_ENABLED
      ? { subject: settings.AUTO_REPLY_SUBJECT, text: autoReplyText }
      : false,
    leadSinkUrl: settings.LEAD_SINK_URL,
    leadSinkToken: settings.LEAD_SINK_TOKEN,
    leadDedupWindowDays: settings.LEAD_DEDUP_WINDOW_DAYS,
    leadPhoneCountry: settings.LEAD_PHONE_COUNTRY,
    redis,
    prefix: settings.REDIS_PREFIX,
  };
}

/** Connects, checks the registry covers the served queues, and starts consuming. */
export async function startWorkerProcess(
  settings: WorkerSettings,
  options: StartWorkerOptions = {},
): Promise<WorkerProcess> {
  const logger = options.logger ?? createLogger({ name: 'worker', level: settings.LOG_LEVEL });
  const redisSettings = redisSettingsFrom(settings);
  let lastRedisError = '';
  const connection = createRedisConnection(redisSettings, 'worker', (err) => {
    // One line per distinct error, not one per reconnect attempt.
    if (err.message !== lastRedisError) logger.error({ err: err.message }, 'redis connection error');
    lastRedisError = err.message;
  });
  connection.on('ready', () => {
    if (lastRedisError) logger.info('redis connection restored');
    lastRedisError = '';
  });
  // An evicting or non-persistent Redis silently breaks "no task lost": say so loudly.
  watchRedisConfig(connection, { production: settings.NODE_ENV === 'production', logger });
  const catalog = options.catalog ?? new TaskCatalog(builtinTasks);
  const queue = new TaskQueue({
    connection,
    prefix: settings.REDIS_PREFIX,
    catalog,
    defaults: taskDefaultsFrom(settings),
    retentionDays: settings.TASK_CLEANUP_DAYS,
  });
  const registry = options.registry ?? builtinRegistry(handlerDepsFrom(settings, connection));
  const worker = new TaskWorker({
    queue,
    connection,
    registry,
    logger,
    queues: settings.WORKER_QUEUES,
    concurrency: settings.WORKER_CONCURRENCY,
    lockDurationMs: settings.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: settings.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: settings.WORKER_MAX_STALLED_COUNT,
    shutdownGraceMs: settings.WORKER_SHUTDOWN_GRACE * 1000,
  });
  const schedules = settings.SCHEDULES_FILE ? await loadSchedules(settings.SCHEDULES_FILE, queue) : undefined;
  logger.info({ redis: describeRedis(redisSettings), prefix: settings.REDIS_PREFIX }, 'connecting to redis');
  options.beforeStart?.(worker);
  await worker.start();
  if (schedules) {
    // Idempotent: every replica upserts the same job schedulers; a slot still runs once.
    const synced = await syncSchedules(queue, schedules);
    logger.info({ file: settings.SCHEDULES_FILE, ...synced }, 'schedules synced');
  }
  const heartbeat = settings.WORKER_HEARTBEAT_FILE
    ? new Heartbeat({
        file: settings.WORKER_HEARTBEAT_FILE,
        describe: () => ({ redis: connection.status, running: worker.activeTaskIds().length }),
      })
    : undefined;
  heartbeat?.start();
  return {
    worker,
    queue,
    logger,
    async stop() {
      heartbeat?.stop();
      const result = await worker.close();
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
      logger.flush();
      return result;
    },
  };
}

/** Reads SCHEDULES_FILE; a bad file stops the worker with a message naming the entry and field. */
async function loadSchedules(file: string, queue: TaskQueue): Promise<ScheduleEntry[]> {
  try {
    return await loadSchedulesFile(resolve(file), queue);
  } catch (err) {
    if (err instanceof ScheduleConfigError)
      throw new SettingsError([{ variable: 'SCHEDULES_FILE', message: err.message }]);
    throw err;
  }
}

/**
 * Runs a worker until SIGTERM or SIGINT, then stops gracefully and exits 0.
 * Bad settings exit 2 with a message naming the variable.
 */
export async function runWorkerMain(
  load: () => WorkerSettings,
  options: StartWorkerOptions = {},
): Promise<void> {
  let settings: WorkerSettings;
  try {
    settings = load();
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  let running: WorkerProcess;
  try {
    running = await startWorkerProcess(settings, options);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.logger.info({ signal }, 'stopping');
    try {
      await running.stop();
      process.exit(0);
    } catch (err) {
      running.logger.fatal({ err }, 'shutdown failed');
      running.logger.flush();
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    // A handler threw outside its promise (a timer, an emitter). The process
    // state is unknown: exit and let BullMQ's stalled check hand its tasks on.
    running.logger.fatal({ err }, 'uncaught exception; exiting');
    running.logger.flush();
    process.exit(1);
  });
}
