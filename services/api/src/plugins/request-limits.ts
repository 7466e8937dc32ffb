import type { RedisClient } from '@solar-tasks/queue';
import { type ApiKey, matchApiKey } from '../api-keys.js';
import type { App } from '../app.js';
import { presentedKey } from './auth.js';
import { type WindowStore, windowLimiter } from './window-limiter.js';

/** Limits on requests, per API key and per client IP. */
export interface RequestLimits {
  /** Requests one API key may make per window, across all API replicas. @defaultValue 6000 */
  perKeyMax?: number;
  /** Requests per window from one client IP that present no valid key (wrong keys, anonymous calls). @defaultValue 300 */
  perIpMax?: number;
  /** Window length. @defaultValue 60000 */
  windowMs?: number;
  /**
   * Redis for the counters, so limits hold across API replicas (in leases of
   * tokens: see LeasedRedisStore). In-process counters when unset (tests, a
   * single replica).
   */
  redis?: RedisClient | undefined;
  /** Key prefix for the counters. @defaultValue 'solar:rate-limit:' */
  nameSpace?: string;
}

/** How a route authenticates; read by the limiter and listed by the route-auth test. */
export type RouteAuth = 'api-key' | 'public' | 'webhook' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How the route authenticates; `api-key` when left out. */
    auth?: RouteAuth;
  }
}

/**
 * Rate limits in front of every API-key route, in one callback `onRequest`
 * hook: a request with a valid key counts against that key (so one noisy
 * client cannot starve the others); anything else counts against the
 * client's IP (so guessing keys is slow). Public routes, the webhook (its own
 * per-IP limit, on the same store) and the dashboard (its own credentials)
 * are not counted here. A Redis outage lets requests through: the route
 * itself then answers 503, and availability wins over counting.
 */
export function registerRequestLimits(
  app: App,
  keys: readonly ApiKey[],
  store: WindowStore,
  limits: RequestLimits = {},
): void {
  const windowMs = limits.windowMs ?? 60_000;
  const message = 'rate limit exceeded';
  const perKey = windowLimiter(store, { max: limits.perKeyMax ?? 6000, windowMs, message });
  const perIp = windowLimiter(store, { max: limits.perIpMax ?? 300, windowMs, message });
  // Each key's counter name, made once: a name built per request is a new string, which the
  // store's map must then hash (and copy into one piece first) on every request.
  const counterOf = new Map(keys.map((key) => [key, `key:${key.name}`]));

  app.addHook('onRequest', (request, reply, done) => {
    const auth = request.routeOptions.config?.auth ?? 'api-key';
    if (auth !== 'api-key' || request.is404) {
      done();
      return;
    }
    const presented = presentedKey(request);
    const key = presented === undefined ? undefined : matchApiKey(keys, presented);
    if (key) {
      // requireScope reuses this, so the key is matched once per request.
      request.apiKey = key;
      // matchApiKey answers one of `keys`, each in the map.
      perKey(counterOf.get(key)!, reply, done);
    } else {
      perIp(`ip:${request.ip}`, reply, done);
    }
  });
}
