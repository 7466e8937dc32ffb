#!/usr/bin/env node
import { resolve } from 'node:path';
import { builtinTasks, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, describeRedis, redisSettingsFrom, TaskQueue } from '@solar-tasks/queue';
import { createLogger, SettingsError, taskDefaultsFrom } from '@solar-tasks/runtime';
import { parseApiKeys } from './api-keys.js';
import { buildApp } from './app.js';
import { ensureDevApiKey } from './dev-key.js';
import { type ApiSettings, loadApiSettings } from './env.js';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

let settings: ApiSettings;
try {
  settings = loadApiSettings();
} catch (err) {
  if (err instanceof SettingsError) fail(err.message);
  throw err;
}

const logger = createLogger({ name: 'api', level: settings.LOG_LEVEL });

let apiKeys: ReturnType<typeof parseApiKeys>;
try {
  apiKeys = parseApiKeys(settings.API_KEYS, settings.API_KEY_SCOPES);
} catch (err) {
  fail(`Invalid configuration:\n  ${(err as Error).message}`);
}

if (settings.NODE_ENV === 'production') {
  const missing = [
    apiKeys.length === 0 && 'API_KEYS',
    !settings.ADMIN_USERNAME && 'ADMIN_USERNAME',
    !settings.ADMIN_PASSWORD && 'ADMIN_PASSWORD',
    !settings.EMAILJS_WEBHOOK_SECRET && 'EMAILJS_WEBHOOK_SECRET',
  ].filter(Boolean);
  if (missing.length > 0)
    fail(`Refusing to start in production without: ${missing.join(', ')}. The API never runs open.`);
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
  if (err.message !== lastRedisError) logger.error({ err: err.message }, 'redis connection error');
  lastRedisError = err.message;
});
connection.on('ready', () => {
  if (lastRedisError) logger.info('redis connection restored');
  lastRedisError = '';
});

const queue = new TaskQueue({
  connection,
  prefix: settings.REDIS_PREFIX,
  catalog: new TaskCatalog(builtinTasks),
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
  trustProxy: parseTrustProxy(settings.TRUST_PROXY),
  limits: {
    redis: connection,
    nameSpace: `${settings.REDIS_PREFIX}:rate-limit:`,
    perKeyMax: settings.RATE_LIMIT_KEY_MAX,
    perIpMax: settings.RATE_LIMIT_IP_MAX,
    windowMs: settings.RATE_LIMIT_WINDOW * 1000,
  },
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

function parseTrustProxy(value: string | undefined): boolean | string | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return value.split(',').map((s) => s.trim());
}

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  await app.close();
  await queue.close();
  await connection.quit().catch(() => connection.disconnect());
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

logger.info({ redis: describeRedis(redisSettings), prefix: settings.REDIS_PREFIX }, 'connecting to redis');
const address = await app.listen({ port: settings.PORT, host: settings.HOST });
logger.info({ address, docs: `${address}/docs` }, 'api listening');
