import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { TaskApiError } from '@solar-tasks/contract';
import type { RedisClient } from '@solar-tasks/queue';
import { type ApiKey, matchApiKey } from '../api-keys.js';
import type { App } from '../app.js';
import { presentedKey } from './auth.js';
import { leasedRedisStore } from './leased-rate-limit-store.js';

/** Limits on requests, per API key and per client IP. */
export interface RequestLimits {
  /** Requests one API key may make per window, across all API replicas. @defaultValue 6000 */
  perKeyMax?: number;
  /** Requests per window from one client IP that present no valid key (wrong keys, anonymous calls). @defaultValue 300 */
  perIpMax?: number;
  /** Window length. @defaultValue 60000 */
  windowMs?: number;
  /**
   * Redis for the counters, so limits hold across API replicas (a store for
   * the plugin that leases tokens: see leasedRedisStore). In-process counters
   * when unset (tests, a single replica).
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
 * Rate limits in front of every API-key route, in one `onRequest` hook:
 * a request with a valid key counts against that key (so one noisy client
 * cannot starve the others); anything else counts against the client's IP
 * (so guessing keys is slow). Public routes, the webhook (its own per-IP
 * limit) and the dashboard (its own credentials) are not counted here.
 * A Redis outage lets requests through (`skipOnError`): the route itself then
 * answers 503, and availability wins over counting.
 */
export async function registerRequestLimits(
  app: App,
  keys: readonly ApiKey[],
  limits: RequestLimits = {},
): Promise<void> {
  const windowMs = limits.windowMs ?? 60_000;
  await app.register(rateLimit, {
    global: false,
    // Counted in Redis, in leases of tokens (see leasedRedisStore). The store only defines a Lua
    // command and calls it: a Cluster client serves as well as a single one.
    ...(limits.redis
      ? {
          store: leasedRedisStore({
            redis: limits.redis,
            nameSpace: limits.nameSpace ?? 'solar:rate-limit:',
          }) as unknown as FastifyRateLimitStoreCtor,
        }
      : {}),
    skipOnError: true,
    timeWindow: windowMs,
    errorResponseBuilder: (_request, context) =>
      new TaskApiError('RATE_LIMITED', `rate limit exceeded; retry in ${context.after}`, {
        limit: context.max,
        retry_after_seconds: Math.ceil(context.ttl / 1000),
      }),
  });
  const perKey = limiter(app, {
    max: limits.perKeyMax ?? 6000,
    timeWindow: windowMs,
    keyGenerator: (request) => `key:${request.apiKey?.name ?? '?'}`,
  });
  const perIp = limiter(app, {
    max: limits.perIpMax ?? 300,
    timeWindow: windowMs,
    keyGenerator: (request) => `ip:${request.ip}`,
  });

  app.addHook('onRequest', async (request, reply) => {
    const auth = request.routeOptions.config?.auth ?? 'api-key';
    if (auth !== 'api-key' || request.is404) return;
    const presented = presentedKey(request);
    const key = presented === undefined ? undefined : matchApiKey(keys, presented);
    if (key) {
      // requireScope reuses this, so the key is matched once per request.
      request.apiKey = key;
      await perKey(request, reply);
    } else {
      await perIp(request, reply);
    }
  });
}

/** A limiter from the plugin's decorator, callable from our own hook (the plugin's types bind `this`). */
function limiter(app: App, options: Parameters<App['rateLimit']>[0]) {
  const handler = app.rateLimit(options) as unknown as (
    this: App,
    request: unknown,
    reply: unknown,
  ) => Promise<void>;
  return (request: unknown, reply: unknown) => handler.call(app, request, reply);
}
