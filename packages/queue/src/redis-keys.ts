/**
 * Every Redis name the system uses, in one place.
 *
 * Redis Cluster runs a Lua script or a MULTI only on keys of one hash slot,
 * and BullMQ's scripts touch many keys of a queue at once. So each queue's
 * keys share a hash tag, the queue name in braces: `solar:{email}:email:wait`.
 * One queue lives in one slot (on one master) and different queues spread
 * over the masters: shard by queue. On a single server or Sentinel the braces
 * mean nothing and the names stay readable.
 *
 * A prefix that carries its own hash tag (`REDIS_PREFIX={solar}`) wins, since
 * Redis hashes the first `{…}` of a key: the whole deployment then lives in
 * one slot, which suits a cluster shared with other applications.
 *
 * The other names are single keys or channels, valid on any topology: the
 * counters hash (one key per MULTI) and the cancel channel (Cluster forwards
 * PUBLISH to every node).
 */
export interface RedisKeys {
  /** BullMQ `prefix` of a queue; BullMQ names its keys `<this>:<queue>:<type>`. */
  queuePrefix(queue: string): string;
  /** Hash of lifetime totals per task name and event. */
  readonly counters: string;
  /** Pub/sub channel on which workers hear about cancelled running tasks. */
  readonly cancelChannel: string;
  /** Hash of run-time histogram bucket counts per task name (`{stats}` hash tag). */
  readonly taskRuntime: string;
  /** Prefix of the per-minute throughput hashes, `<this>:<epoch minute>` (`{stats}` hash tag). */
  readonly throughput: string;
  /** Sorted set of online worker ids scored by their last heartbeat (`{stats}` hash tag). */
  readonly workers: string;
  /** `KEYS`/`SCAN` pattern matching every key of the deployment. */
  readonly pattern: string;
  /**
   * Any other key of the deployment: `key('leads', 'seen')` is
   * `solar:leads:seen`. Keys that one MULTI or script uses together must
   * share a hash tag on Cluster: give it as a part, `key('{leads}', 'seen')`.
   */
  key(...parts: string[]): string;
}

/** The Redis names of a deployment with key prefix `prefix` (`REDIS_PREFIX`). */
export function redisKeys(prefix: string): RedisKeys {
  if (!prefix) throw new TypeError('prefix must not be empty');
  return {
    queuePrefix: (queue) => {
      if (!queue || /[{}:]/.test(queue))
        throw new TypeError(`queue name "${queue}" must be non-empty and contain no { } or :`);
      return `${prefix}:{${queue}}`;
    },
    counters: `${prefix}:stats:task-totals`,
    cancelChannel: `${prefix}:events:cancel`,
    // One hash tag for the metrics keys a worker writes in one MULTI.
    taskRuntime: `${prefix}:{stats}:task-runtime`,
    throughput: `${prefix}:{stats}:throughput`,
    workers: `${prefix}:{stats}:workers`,
    pattern: `${prefix}:*`,
    key: (...parts) => {
      if (parts.length === 0 || parts.some((p) => !p)) throw new TypeError('key parts must be non-empty');
      return [prefix, ...parts].join(':');
    },
  };
}
