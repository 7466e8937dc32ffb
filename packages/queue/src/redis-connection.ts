import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { CommonSettings } from '@solar-tasks/runtime';
import { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import { type CoalescingOptions, CoalescingRedis } from './coalescing-redis.js';

/** A Redis endpoint. */
export interface RedisEndpoint {
  host: string;
  port: number;
}

/** TLS towards Redis (and the sentinels). Certificates are always verified. */
export interface RedisTlsSettings {
  /** PEM bundle of CAs to trust instead of the system's. */
  ca?: string | undefined;
}

/**
 * How to reach Redis; one factory serves the API, workers, the CLI and every
 * connection BullMQ duplicates from theirs. Exactly one topology applies:
 * `clusterNodes` (Cluster), else `sentinels` (Sentinel), else `url` (one server).
 */
export interface RedisSettings {
  /** One server: `redis://` or `rediss://` URL (user, password and db may be in it). @defaultValue redis://127.0.0.1:6379 */
  url?: string | undefined;
  /** Key prefix of the deployment (`REDIS_PREFIX`). */
  prefix: string;
  /** Sentinels to ask for the current master; turns on Sentinel mode. */
  sentinels?: readonly RedisEndpoint[] | undefined;
  /** Master group name the sentinels monitor. Required with `sentinels`. */
  sentinelName?: string | undefined;
  /** Password of the sentinels themselves. */
  sentinelPassword?: string | undefined;
  /** Cluster seed nodes; turns on Cluster mode. */
  clusterNodes?: readonly RedisEndpoint[] | undefined;
  /** ACL user of the data nodes (wins over one in `url`). */
  username?: string | undefined;
  /** Password of the data nodes (wins over one in `url`). */
  password?: string | undefined;
  /** TLS on (a `rediss://` url turns it on too). */
  tls?: RedisTlsSettings | undefined;
}

/** A connection from {@link createRedisConnection}: one server or Sentinel-managed (`Redis`), or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** Which of the three topologies settings select. */
export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

/**
 * Who the connection is for. They fail differently on purpose:
 * - `worker`: retries forever (`maxRetriesPerRequest: null`); BullMQ requires it
 *   for blocking commands, and a worker should ride out a Redis restart or failover.
 * - `api`: fails fast (`enableOfflineQueue: false`, short timeouts), so an HTTP
 *   request gets a 503 within a second instead of hanging while Redis is down.
 */
export type ConnectionRole = 'worker' | 'api';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** The topology `settings` select. */
export function redisTopology(settings: RedisSettings): RedisTopology {
  if (settings.clusterNodes?.length) return 'cluster';
  if (settings.sentinels?.length) return 'sentinel';
  return 'standalone';
}

/** The connection settings from parsed common settings (`REDIS_*`). */
export function redisSettingsFrom(settings: CommonSettings): RedisSettings {
  const tlsOn = settings.REDIS_TLS === true || settings.REDIS_URL.startsWith('rediss://');
  return {
    url: settings.REDIS_URL,
    prefix: settings.REDIS_PREFIX,
    sentinels: settings.REDIS_SENTINELS,
    sentinelName: settings.REDIS_SENTINEL_NAME,
    sentinelPassword: settings.REDIS_SENTINEL_PASSWORD,
    clusterNodes: settings.REDIS_CLUSTER_NODES,
    username: settings.REDIS_USERNAME,
    password: settings.REDIS_PASSWORD,
    tls: tlsOn || settings.REDIS_TLS_CA_FILE ? { ca: settings.REDIS_TLS_CA_FILE?.pem } : undefined,
  };
}

/** The options every connection of a role shares, whatever the topology. */
function roleOptions(role: ConnectionRole): RedisOptions {
  const common: RedisOptions = {
    connectionName: `solar-tasks:${role}`,
    // After a failover the old master may come back as a replica: reconnect
    // (through the sentinels, to the new master) and resend the command.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
  if (role === 'worker') return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
  // No auto-pipelining: the API's connection coalesces its writes instead (see
  // CoalescingRedis), which saves the same system calls without building a pipeline per turn.
  return {
    ...common,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 1500,
  };
}

/** Reconnect quickly at first, then every 2 s, forever. */
const retryStrategy = (times: number) => Math.min(times * 100, 2000);

function tlsOptions(tls: RedisTlsSettings | undefined): TlsOptions | undefined {
  if (!tls) return undefined;
  return tls.ca ? { ca: tls.ca } : {};
}

/** Host, port, db and credentials of a `redis://`/`rediss://` URL; settings' credentials win. */
function standaloneOptions(settings: RedisSettings): RedisOptions {
  const url = new URL(settings.url ?? DEFAULT_URL);
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 6379,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
  };
  const username = settings.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = settings.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (username) options.username = username;
  if (password) options.password = password;
  const tls = tlsOptions(url.protocol === 'rediss:' ? (settings.tls ?? {}) : settings.tls);
  if (tls) options.tls = tls;
  return options;
}

/**
 * The ioredis options of a role for one server or a Sentinel group (for
 * Cluster, these are the per-node options; see {@link clusterOptions}).
 */
export function redisOptions(settings: RedisSettings, role: ConnectionRole): RedisOptions {
  const base: RedisOptions = { ...roleOptions(role), retryStrategy, lazyConnect: false };
  if (role === 'api') base.enableOfflineQueue = false;
  if (redisTopology(settings) !== 'sentinel') return { ...base, ...standaloneOptions(settings) };
  if (!settings.sentinelName) throw new TypeError('sentinelName is required with sentinels');
  const tls = tlsOptions(settings.tls);
  return {
    ...base,
    sentinels: settings.sentinels!.map(({ host, port }) => ({ host, port })),
    name: settings.sentinelName,
    role: 'master',
    username: settings.username,
    password: settings.password,
    sentinelPassword: settings.sentinelPassword,
    // Keep asking the sentinels while none answers (they may be restarting too).
    sentinelRetryStrategy: (times) => Math.min(times * 100, 2000),
    // No `failoverDetector`: when +switch-master arrives while a reconnect is
    // under way (the usual case after a crash), ioredis 6 aborts that connect
    // and leaves the client in status "end" for good, never reconnecting
    // (seen in tests/topology/src/sentinel-failover.test.ts). A dead master
    // closes the socket anyway, and a demoted one answers READONLY, which
    // reconnectOnError turns into a reconnect through the sentinels.
    ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
  };
}

/** The ioredis Cluster options of a role. */
export function clusterOptions(settings: RedisSettings, role: ConnectionRole): ClusterOptions {
  const tls = tlsOptions(settings.tls);
  return {
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: role === 'worker',
    enableReadyCheck: true,
    // Each node gets the role's timeouts and credentials.
    redisOptions: {
      ...roleOptions(role),
      username: settings.username,
      password: settings.password,
      ...(tls ? { tls } : {}),
    },
    slotsRefreshTimeout: 2000,
    // A failover inside the cluster: retry MOVED/CLUSTERDOWN soon, not after the default 2 s.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
  };
}

/** How a worker's connection coalesces: see {@link CoalescingOptions.holdFromInFlight}. */
const WORKER_COALESCING: CoalescingOptions = { holdFromInFlight: 16 };

/**
 * Opens a connection for `role` on the topology `settings` select. Errors are
 * reported through `onError` rather than thrown unhandled. Every connection
 * of the system comes from here (BullMQ duplicates these, keeping their options).
 * A connection to one server or through Sentinel sends the commands of one
 * event-loop turn together ({@link CoalescingRedis}). A worker's does so
 * only while 16 or more of its commands await replies: its loop (finish a
 * task, fetch the next) waits on each reply, and holding commands back with
 * few in flight left Redis and the worker taking turns to idle.
 */
export function createRedisConnection(
  settings: RedisSettings,
  role: ConnectionRole,
  onError: (err: Error) => void = () => {},
): RedisClient {
  const client: RedisClient =
    redisTopology(settings) === 'cluster'
      ? new Cluster(
          settings.clusterNodes!.map(({ host, port }) => ({ host, port })),
          clusterOptions(settings, role),
        )
      : new CoalescingRedis(redisOptions(settings, role), role === 'worker' ? WORKER_COALESCING : {});
  client.on('error', onError);
  return client;
}

/** Where the settings point, safe to log (no passwords). */
export function describeRedis(settings: RedisSettings): string {
  const list = (nodes: readonly RedisEndpoint[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  const tls = settings.tls ? ' (tls)' : '';
  switch (redisTopology(settings)) {
    case 'cluster':
      return `cluster via ${list(settings.clusterNodes!)}${tls}`;
    case 'sentinel':
      return `sentinel master "${settings.sentinelName}" via ${list(settings.sentinels!)}${tls}`;
    default:
      return redactRedisUrl(settings.url ?? DEFAULT_URL);
  }
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
