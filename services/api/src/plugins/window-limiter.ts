import type { FastifyReply } from 'fastify';
import { sendError } from '../errors.js';
import { LeasedRedisStore, type LeasedStoreOptions } from './leased-rate-limit-store.js';

/** What a store answers for one counted request. */
export interface WindowCount {
  /** The request's position in its window (1 for the first). */
  current: number;
  /** Milliseconds until the window ends. */
  ttl: number;
}

/** Counts requests per key in fixed windows that start with a key's first request. */
export interface WindowStore {
  incr(
    key: string,
    cb: (err: Error | null, res: WindowCount | null) => void,
    windowMs: number,
    max: number,
  ): void;
}

/**
 * The store of every limit in this process: in Redis (leased, so limits hold
 * across API replicas: see {@link LeasedRedisStore}) when `redis` is given,
 * else in process (tests, a single replica).
 */
export function windowStore(options: Partial<LeasedStoreOptions> & { nameSpace: string }): WindowStore {
  return options.redis ? new LeasedRedisStore({ ...options, redis: options.redis }) : new LocalWindowStore();
}

/** Counters in this process's memory. Keys whose window is over are swept once there are many. */
export class LocalWindowStore implements WindowStore {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  #sweptAt = 0;

  incr(key: string, cb: (err: Error | null, res: WindowCount | null) => void, windowMs: number): void {
    const now = Date.now();
    let w = this.#windows.get(key);
    if (!w || now >= w.resetAt) {
      if (!w && this.#windows.size >= 10_000 && now - this.#sweptAt >= 1000) this.#sweep(now);
      w = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, w);
    }
    w.count++;
    cb(null, { current: w.count, ttl: w.resetAt - now });
  }

  /** The open window of `key` as it stands, without counting; undefined when none is open. */
  peek(key: string): WindowCount | undefined {
    const now = Date.now();
    const w = this.#windows.get(key);
    return w && now < w.resetAt ? { current: w.count, ttl: w.resetAt - now } : undefined;
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [k, w] of this.#windows) if (now >= w.resetAt) this.#windows.delete(k);
  }
}

/** One limit: `max` requests per key and window. */
export interface WindowLimit {
  max: number;
  windowMs: number;
  /** The 429's message, before "; retry in N s". */
  message: string;
}

/**
 * A limit as a step of a callback hook: counts the request against `key`, sets
 * `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds), and either calls
 * `done` or answers 429 `RATE_LIMITED` with `Retry-After`. A store error (Redis
 * away) lets the request through: the route itself then answers 503, and
 * availability wins over counting.
 */
export function windowLimiter(store: WindowStore, limit: WindowLimit) {
  const { max, windowMs, message } = limit;
  // Header values as strings: Node checks each value with a regular expression, and a number
  // took that check's slow path (converted to text there, and again when the header was written).
  const maxText = String(max);
  return (key: string, reply: FastifyReply, done: () => void): void => {
    store.incr(
      key,
      (err, res) => {
        if (err || !res) {
          done();
          return;
        }
        const resetSeconds = Math.ceil(res.ttl / 1000);
        const resetText = String(resetSeconds);
        reply.header('x-ratelimit-limit', maxText);
        reply.header('x-ratelimit-remaining', String(Math.max(0, max - res.current)));
        reply.header('x-ratelimit-reset', resetText);
        if (res.current <= max) {
          done();
          return;
        }
        reply.header('retry-after', resetText);
        sendError(reply, 'RATE_LIMITED', `${message}; retry in ${resetSeconds} s`, {
          limit: max,
          retry_after_seconds: resetSeconds,
        });
      },
      windowMs,
      max,
    );
  };
}
