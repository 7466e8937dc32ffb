import { resolve } from 'node:path';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import {
  createRedisConnection,
  describeRedis,
  type RedisClient,
  redisSettingsFrom,
  TaskQueue,
  watchRedisConfig,
} from '@solar-tasks/queue';
import { createLogger, type Logger, SettingsError, taskDefaultsFrom } from '@solar-tasks/runtime';
import { parseApiKeys } from './api-keys.js';
import { type App, buildApp } from './app.js';
import { ensureDevApiKey } from './dev-key.js';
import type { ApiSettings } from './env.js';

/** A listening API and how to stop it. */
export interface ApiProcess {
  app: App;
  queue: TaskQueue;
  connection: RedisClient;
  logger: Logger;
  /** `http://host:port` it listens on. */
  address: string;
  /** Closes the server, then Redis. */
  stop(): Promise<void>;
}

/** Overrides for tests and embedders: another catalog or logger than the built-in ones. */
export interface StartApiOptions {
  catalog?: TaskCatalog;
  logger?: Logger;
}

/** A configuration the API refuses to start with (exit 2, like a bad setting). */
export class ApiStartupError extends Error {
  override name = 'ApiStartupError';
}

/**
 * Builds the API from settings and listens: API keys (a development key when
 * none are configured outside production), the Redis connection (failing fast,
 * see `createRedisConnection`), the task queue and the Fastify app. Throws
 * {@link ApiStartupError} for a configuration it refuses.
 */
export async function startApiProcess(
  settings: ApiSettings,
  options: StartApiOptions = {},
): Promise<ApiProcess> {
  const logger = options.logger ?? createLogger({ name: 'api', level: settings.LOG_LEVEL });

  let apiKeys: ReturnType<typeof parseApiKeys>;
  try {
    apiKeys = parseApiKeys(settings.API_KEYS, settings.API_KEY_SCOPES);
  } catch (err) {
    throw new ApiStartupError(`Invalid configuration:\n  ${(err as Error).message}`);
  }
  const production = settings.NODE_ENV === 'production';
  if (production) {
    const missing = [
      apiKeys.length === 0 && 'API_KEYS',
      !settings.ADMIN_USERNAME && 'ADMIN_USERNAME',
      !settings.ADMIN_PASSWORD && 'ADMIN_PASSWORD',
      !settings.EMAILJS_WEBHOOK_SECRET && 'EMAILJS_WEBHOOK_SECRET',
    ].filter(Boolean);
    if (missing.length > 0)
      throw new ApiStartupError(
        `Refusing to start in production without: ${missing.join(', ')}. The API never runs open.`,
      );
  } else if (apiKeys.length === 0) {
    const dev = await ensureDevApiKey(resolve(settings.DATA_DIR));
    apiKeys = parseApiKeys(`dev:${dev.secret}`, undefined);
    // Printed to the terminal (not the log stream), once per start, so a developer can use it.
    console.error(
      `\nNo API_KEYS configured: using a development key (kept in ${dev.file}):\n\n  Authorization: Bearer ${dev.secret}\n`,
    );
  }

  let lastRedisError = '';
  const redisSettings = redisSettingsFrom(settings);
  const connection = createRedisConnection(redisSettings, 'api', (err) => {
    // One line per distinct error, not one per reconnect attempt.
    if (err.message !== lastRedisError) logger.error({ err: err.message }, 'redis connection error');
    lastRedisError = err.message;
  });
  connection.on('ready', () => {
    if (lastRedisError) logger.info('redis connection restored');
    lastRedisError = '';
  });
  // An evicting or non-persistent Redis silently breaks "no task lost": say so loudly.
  watchRedisConfig(connection, { production, logger });

  const queue = new TaskQueue({
    connection,
    prefix: settings.REDIS_PREFIX,
    catalog: options.catalog ?? new TaskCatalog(builtinTasks),
    defaults: taskDefaultsFrom(settings),
    retentionDays: settings.TASK_CLEANUP_DAYS,
    maxArgsBytes: settings.TASK_MAX_ARGS_BYTES,
    waitReplicas: settings.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: settings.REDIS_WAIT_TIMEOUT_MS,
  });
  const app = await buildApp({
    queue,
    apiKeys,
    logger,
    taskDefaults: taskDefaultsFrom(settings),
    bodyLimit: settings.BODY_LIMIT,
    bulkBodyLimit: settings.BULK_BODY_LIMIT,
    trustProxy: parseTrustProxy(settings.TRUST_PROXY),
    limits: {
      redis: connection,
      nameSpace: `${settings.REDIS_PREFIX}:rate-limit:`,
      perKeyMax: settings.RATE_LIMIT_KEY_MAX,
      perIpMax: settings.RATE_LIMIT_IP_MAX,
      windowMs: settings.RATE_LIMIT_WINDOW * 1000,
    },
    admin: { username: settings.ADMIN_USERNAME, password: settings.ADMIN_PASSWORD },
    metricsToken: settings.METRICS_TOKEN,
    emailjs: {
      redis: connection,
      secret: settings.EMAILJS_WEBHOOK_SECRET,
      allowedOrigins: settings.EMAILJS_ALLOWED_ORIGINS,
      rateLimit: {
        max: settings.EMAILJS_RATE_LIMIT_MAX,
        timeWindowMs: settings.EMAILJS_RATE_LIMIT_WINDOW * 1000,
      },
      // Kept as long as the task itself is, so a manual retry of a failed task still finds it.
      submissionTtlSeconds: settings.TASK_CLEANUP_DAYS * 86_400,
    },
  });

  logger.info({ redis: describeRedis(redisSettings), prefix: settings.REDIS_PREFIX }, 'connecting to redis');
  const address = await app.listen({ port: settings.PORT, host: settings.HOST });
  logger.info({ address, docs: `${address}/docs` }, 'api listening');
  return {
    app,
    queue,
    connection,
    logger,
    address,
    async stop() {
      await app.close();
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
      logger.flush();
    },
  };
}

/**
 * Runs the API until SIGTERM or SIGINT, then closes and exits 0. Bad settings
 * or a refused configuration exit 2 with a message naming the problem.
 */
export async function runApiMain(load: () => ApiSettings, options: StartApiOptions = {}): Promise<void> {
  let running: ApiProcess;
  try {
    running = await startApiProcess(load(), options);
  } catch (err) {
    if (err instanceof SettingsError || err instanceof ApiStartupError) {
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
    await running.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function parseTrustProxy(value: string | undefined): boolean | string | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return value.split(',').map((s) => s.trim());
}
