import { Redis, type RedisOptions } from 'ioredis';

/** How to reach Redis; one factory serves the API, workers and the CLI. */
export interface RedisSettings {
  /** `redis://` or `rediss://` URL (user, password and db may be in it). */
  url: string;
  /** Key prefix of the deployment (`REDIS_PREFIX`). */
  prefix: string;
}

/**
 * Who the connection is for. They fail differently on purpose:
 * - `worker`: retries forever (`maxRetriesPerRequest: null`); BullMQ requires it
 *   for blocking commands, and a worker should ride out a Redis restart.
 * - `api`: fails fast (`enableOfflineQueue: false`, short timeouts), so an HTTP
 *   request gets a 503 within a second instead of hanging while Redis is down.
 */
export type ConnectionRole = 'worker' | 'api';

/** The ioredis options for a role (exported for BullMQ, which duplicates connections). */
export function redisOptions(_settings: RedisSettings, role: ConnectionRole): RedisOptions {
  const common: RedisOptions = {
    connectionName: `solar-tasks:${role}`,
    // Reconnect quickly at first, then every 2 s, forever.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    lazyConnect: false,
  };
  if (role === 'worker') {
    return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
  }
  return {
    ...common,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 1000,
    commandTimeout: 1500,
  };
}

/** Opens a connection for `role`. Errors are reported through `onError` rather than thrown unhandled. */
export function createRedisConnection(
  settings: RedisSettings,
  role: ConnectionRole,
  onError: (err: Error) => void = () => {},
): Redis {
  const client = new Redis(settings.url, redisOptions(settings, role));
  client.on('error', onError);
  return client;
}

/** Redis URL with any password replaced by `***`, safe to log. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}
