import type { RedisClient } from '@solar-tasks/queue';
import type { WindowCount, WindowStore } from './window-limiter.js';

/**
 * Takes `ARGV[2]` tokens of a window at once: the count goes up by that much,
 * and the window (`ARGV[1]` ms) starts with the first count. Returns the new
 * count and the window's time left.
 */
const LEASE_LUA = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

type Callback = (err: Error | null, res: WindowCount | null) => void;

/** The connection with the lease command defined on it. */
type LeasingRedis = RedisClient & {
  rateLimitLease?(
    key: string,
    window: number,
    n: number,
    cb: (err: Error | null, res: unknown) => void,
  ): void;
};

/** What one API process knows of one key's window. */
interface KeyState {
  /** Tokens leased from Redis and not handed out yet. */
  left: number;
  /** The count (position in the window) the next leased token stands for. */
  next: number;
  /** When the window ends, on this process's clock (ms). */
  resetAt: number;
  /** The window's count has passed the limit: every request until `resetAt` is over it. */
  exceeded: boolean;
  /** Requests waiting for the lease in flight (one lease at a time per key). */
  waiting: Callback[] | undefined;
}

/** Options of {@link LeasedRedisStore}. */
export interface LeasedStoreOptions {
  redis: RedisClient;
  /** Key prefix of the counters. */
  nameSpace: string;
  /** Most tokens taken in one lease. @defaultValue 100 */
  maxLease?: number;
  /** A lease takes at most this fraction of what the process last saw left in the window. @defaultValue 1/32 */
  leaseShare?: number;
}

/**
 * A {@link WindowStore} that counts in Redis (limits hold across API
 * replicas), but takes tokens in small leases instead of one round trip per
 * request. A lease takes at most 1/32 of what was left of the window when
 * last seen (and at most 100), so far below the limit one Redis call serves
 * up to 100 requests and near it every request is counted one by one,
 * exactly. The limit is never exceeded across replicas: a token is only
 * handed out once Redis has counted it. The price is on the other side:
 * tokens a replica leased and did not use before the window ended were
 * counted all the same (at most 1/32 of the window's headroom per replica).
 * Once the window's count is over the limit, the process answers "over"
 * until the window ends without asking Redis again.
 */
export class LeasedRedisStore implements WindowStore {
  readonly #redis: Required<LeasingRedis>;
  readonly #maxLease: number;
  readonly #leaseShare: number;
  readonly #prefix: string;
  readonly #states: Map<string, KeyState>;
  /** Redis calls made (tests read it). */
  leases = 0;
  #sweptAt = 0;

  constructor(options: LeasedStoreOptions) {
    this.#prefix = options.nameSpace;
    this.#states = new Map();
    const redis = options.redis as LeasingRedis;
    if (!redis.rateLimitLease) redis.defineCommand('rateLimitLease', { numberOfKeys: 1, lua: LEASE_LUA });
    this.#redis = redis as Required<LeasingRedis>;
    this.#maxLease = options.maxLease ?? 100;
    this.#leaseShare = options.leaseShare ?? 1 / 32;
  }

  /** Counts one request for `key`. */
  incr(key: string, cb: Callback, timeWindow: number, max: number): void {
    const k = this.#prefix + key;
    const now = Date.now();
    let state = this.#states.get(k);
    if (!state) {
      if (this.#states.size >= 10_000 && now - this.#sweptAt >= 1000) this.#sweep(now);
      state = { left: 0, next: 0, resetAt: 0, exceeded: false, waiting: undefined };
      this.#states.set(k, state);
    }
    if (now >= state.resetAt) {
      // The window is over: tokens still held expired with it.
      state.left = 0;
      state.exceeded = false;
    }
    if (state.left > 0) {
      state.left--;
      cb(null, { current: state.next++, ttl: state.resetAt - now });
    } else if (state.exceeded) {
      cb(null, { current: max + 1, ttl: state.resetAt - now });
    } else if (state.waiting) {
      state.waiting.push(cb);
    } else {
      this.#lease(k, state, timeWindow, max, [cb]);
    }
  }

  #lease(k: string, state: KeyState, timeWindow: number, max: number, waiting: Callback[]): void {
    const now = Date.now();
    const seen = now < state.resetAt ? state.next - 1 : 0;
    const size = Math.max(1, Math.min(this.#maxLease, Math.floor((max - seen) * this.#leaseShare)));
    state.waiting = waiting;
    this.leases++;
    this.#redis.rateLimitLease(k, timeWindow, size, (err, res) => {
      const callers = state.waiting ?? [];
      state.waiting = undefined;
      if (err) {
        for (const cb of callers) cb(err, null);
        return;
      }
      const [count, ttl] = res as [number, number];
      const first = count - size + 1;
      state.resetAt = Date.now() + ttl;
      state.next = first;
      state.left = Math.max(0, Math.min(count, max) - first + 1);
      state.exceeded = count >= max && state.left < size;
      const rest: Callback[] = [];
      for (const cb of callers) {
        if (state.left > 0) {
          state.left--;
          cb(null, { current: state.next++, ttl });
        } else if (state.exceeded) cb(null, { current: max + 1, ttl });
        else rest.push(cb);
      }
      if (rest.length > 0) this.#lease(k, state, timeWindow, max, rest);
    });
  }

  /** Forgets keys whose window is over (many client IPs must not grow the map without end). */
  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [k, s] of this.#states) if (now >= s.resetAt && !s.waiting) this.#states.delete(k);
  }
}
