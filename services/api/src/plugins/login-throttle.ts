import type { RedisClient } from '@solar-tasks/queue';
import { LocalWindowStore } from './window-limiter.js';

/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failed logins one client IP may make per window before every login from it is refused. @defaultValue 20 */
  max?: number;
  /** Window length. @defaultValue 600000 (10 minutes) */
  windowMs?: number;
  /** Redis, so the count holds across API replicas; in-process when unset (tests, one replica). */
  redis?: RedisClient | undefined;
  /** Key prefix of the counters. @defaultValue 'solar:rate-limit:admin-login:' */
  nameSpace?: string;
}

/**
 * Counts failed operator logins (dashboard, metrics) per client IP. Past
 * `max` failures in a window, every login from that IP is refused until the
 * window ends, the right password included: otherwise a guesser would still
 * learn when it hit. Successful logins are not counted, so a dashboard that
 * polls does not use up the allowance.
 */
export class LoginThrottle {
  readonly max: number;
  readonly windowMs: number;
  readonly #redis: RedisClient | undefined;
  readonly #nameSpace: string;
  /** The counts when there is no Redis (tests, one replica). */
  readonly #local = new LocalWindowStore();

  constructor(options: LoginThrottleOptions = {}) {
    this.max = options.max ?? 20;
    this.windowMs = options.windowMs ?? 600_000;
    if (!(Number.isInteger(this.max) && this.max > 0)) throw new RangeError(`max must be a positive integer`);
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be > 0`);
    this.#redis = options.redis;
    this.#nameSpace = options.nameSpace ?? 'solar:rate-limit:admin-login:';
  }

  /** Milliseconds until `ip` may try again; 0 when it may now. */
  async blockedForMs(ip: string): Promise<number> {
    if (this.#redis) {
      const key = this.#nameSpace + ip;
      const res = await this.#redis.multi().get(key).pttl(key).exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      const ttl = Number(res?.[1]?.[1] ?? 0);
      return count >= this.max && ttl > 0 ? ttl : 0;
    }
    const window = this.#local.peek(ip);
    return window && window.current >= this.max ? window.ttl : 0;
  }

  /** Counts one failed login of `ip`. */
  async fail(ip: string): Promise<void> {
    if (this.#redis) {
      const key = this.#nameSpace + ip;
      // The window starts with the first failure (SET NX), then each failure counts.
      await this.#redis.multi().set(key, 0, 'PX', this.windowMs, 'NX').incr(key).exec();
      return;
    }
    this.#local.incr(ip, () => {}, this.windowMs);
  }
}
