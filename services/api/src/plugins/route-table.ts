import type { Scope } from '../api-keys.js';
import type { App } from '../app.js';
import type { RouteAuth } from './request-limits.js';

/** One route as the security tests see it. */
export interface RouteEntry {
  method: string;
  url: string;
  /** How it authenticates (route `config.auth`, `api-key` when unset). */
  auth: RouteAuth;
  /** For `api-key` routes: the scope its guard requires; undefined means unguarded (a defect). */
  scope: Scope | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, with its authentication (filled as routes are added). */
    routeTable: RouteEntry[];
  }
}

/**
 * Records every route with how it authenticates, so the auth-matrix test can
 * walk all of them and fail on a route nobody classified: a new route is
 * closed by a test, not by memory.
 */
export function recordRouteTable(app: App): void {
  const table: RouteEntry[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (route) => {
    const hooks = [route.preHandler, route.onRequest].flat() as unknown[];
    const guard = hooks.find((h): h is { scope: Scope } => typeof h === 'function' && 'scope' in h);
    const scope = guard?.scope;
    for (const method of [route.method].flat()) {
      table.push({ method, url: route.url, auth: route.config?.auth ?? 'api-key', scope });
    }
  });
}
