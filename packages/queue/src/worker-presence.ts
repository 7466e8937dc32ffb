import type { RedisClient } from './redis-connection.js';

/** Options of {@link WorkerPresence}. */
export interface WorkerPresenceOptions {
  /** Sorted set of worker ids scored by their last beat (ms since the epoch). */
  key: string;
  /** A worker that has not beaten for this long counts as gone. @defaultValue 15000 */
  ttlMs?: number;
}

/**
 * Which worker processes are online, across hosts and on any Redis
 * topology. Each worker beats (ZADD of its id with the current time) every
 * few seconds; a reader counts the ids seen within the TTL (ZCOUNT), so a
 * killed worker drops out by itself after the TTL and a stopped one at once
 * (it removes its id). One key, unlike BullMQ's `getWorkers()`, which runs
 * CLIENT LIST and breaks on Cluster.
 */
export class WorkerPresence {
  readonly ttlMs: number;
  readonly #redis: RedisClient;
  readonly #key: string;

  constructor(redis: RedisClient, options: WorkerPresenceOptions) {
    if (!options.key) throw new TypeError('WorkerPresence needs a key');
    const ttlMs = options.ttlMs ?? 15_000;
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be > 0, got ${ttlMs}`);
    this.#redis = redis;
    this.#key = options.key;
    this.ttlMs = ttlMs;
  }

  /** Marks `workerId` alive now, and forgets workers gone for long (a worker crash leaves its id). */
  async beat(workerId: string, now = Date.now()): Promise<void> {
    await this.#redis
      .multi()
      .zadd(this.#key, now, workerId)
      .zremrangebyscore(this.#key, '-inf', now - 10 * this.ttlMs)
      .exec();
  }

  /** Removes `workerId` (graceful stop). */
  async leave(workerId: string): Promise<void> {
    await this.#redis.zrem(this.#key, workerId);
  }

  /** Workers that beat within the TTL. */
  async online(now = Date.now()): Promise<number> {
    return this.#redis.zcount(this.#key, now - this.ttlMs, '+inf');
  }
}
