import type { RedisClient } from './redis-connection.js';

/** One problem found in the Redis configuration. */
export interface RedisConfigWarning {
  /** Stable code, for tests and log searches. */
  code: 'EVICTION_POLICY' | 'NO_PERSISTENCE' | 'SNAPSHOT_ONLY_PERSISTENCE' | 'LOW_HZ';
  /** `error`: tasks can be lost; `warn`: works, but worse than it should. */
  level: 'error' | 'warn';
  /** One line saying what is wrong, what it costs and how to fix it. */
  message: string;
}

/** Options of {@link checkRedisConfig}. */
export interface RedisConfigCheckOptions {
  /** Production checks persistence and `hz` too (`NODE_ENV=production`). */
  production: boolean;
}

/** Parses the `key:value` lines of an INFO reply. */
export function parseInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const cut = line.indexOf(':');
    if (cut > 0 && !line.startsWith('#')) fields.set(line.slice(0, cut), line.slice(cut + 1).trim());
  }
  return fields;
}

/**
 * Checks the Redis settings the queue's promises rest on, from `INFO` (which
 * managed Redis services allow where `CONFIG GET` is often disabled):
 * - `maxmemory-policy` must be `noeviction`: any other policy lets Redis
 *   delete queued tasks (or the locks of running ones) when memory runs short.
 * - in production, AOF should be on: with no persistence a Redis restart loses
 *   every queued task, and with RDB snapshots only it loses those queued since
 *   the last snapshot. RDB save points are not in INFO, so they are read with
 *   `CONFIG GET save` when allowed; when not, "AOF off" is reported as no persistence.
 * - in production, `hz` below 100 delays scheduled tasks and retries (tens of ms at p99).
 * Returns the problems found; an empty list means all is well.
 */
export async function checkRedisConfig(
  redis: RedisClient,
  options: RedisConfigCheckOptions,
): Promise<RedisConfigWarning[]> {
  const info = parseInfo(await redis.info());
  const warnings: RedisConfigWarning[] = [];

  const policy = info.get('maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push({
      code: 'EVICTION_POLICY',
      level: 'error',
      message:
        `Redis maxmemory-policy is "${policy}": when memory runs short Redis will delete queued tasks and locks. ` +
        'Set maxmemory-policy noeviction (then a full Redis refuses new tasks with 503 instead).',
    });
  }

  if (options.production) {
    if (info.get('aof_enabled') !== '1') {
      const saves = await redis
        .config('GET', 'save')
        .then((reply) => String((reply as string[])[1] ?? '').trim())
        .catch(() => undefined); // CONFIG disabled (managed Redis): cannot see snapshots
      if (saves) {
        warnings.push({
          code: 'SNAPSHOT_ONLY_PERSISTENCE',
          level: 'error',
          message:
            `Redis persists by RDB snapshots only (save "${saves}"): a Redis crash loses every task queued ` +
            'since the last snapshot. Turn on AOF (appendonly yes).',
        });
      } else {
        warnings.push({
          code: 'NO_PERSISTENCE',
          level: 'error',
          message:
            saves === undefined
              ? 'Redis AOF is off and its RDB snapshot settings cannot be read (CONFIG disabled): a Redis ' +
                'restart may lose every queued task. Turn on AOF (appendonly yes).'
              : 'Redis has no persistence (AOF off, no RDB snapshots): a Redis restart loses every queued ' +
                'task. Turn on AOF (appendonly yes).',
        });
      }
    }
    const hz = Number(info.get('hz'));
    if (Number.isFinite(hz) && hz < 100) {
      warnings.push({
        code: 'LOW_HZ',
        level: 'warn',
        message: `Redis hz is ${hz}: scheduled tasks and retries may start up to ~${Math.round(1000 / hz)} ms late. Set hz 100.`,
      });
    }
  }
  return warnings;
}

/** The part of a pino logger {@link watchRedisConfig} needs. */
export interface RedisConfigLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Checks the configuration each time `redis` becomes ready (at start, and
 * after a reconnect, which may reach a different server after a failover) and
 * logs every problem on its own line: `error` when tasks can be lost.
 */
export function watchRedisConfig(
  redis: RedisClient,
  options: RedisConfigCheckOptions & { logger: RedisConfigLogger },
): void {
  const run = () =>
    void checkRedisConfig(redis, options).then(
      (warnings) => {
        for (const w of warnings) options.logger[w.level]({ redis_config: w.code }, w.message);
      },
      (err: Error) =>
        options.logger.warn({ err: err.message }, 'could not check the Redis configuration (INFO failed)'),
    );
  redis.on('ready', run);
  if (redis.status === 'ready') run();
}
