import { randomUUID } from 'node:crypto';
import { TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { testTasks } from '@solar-tasks/worker/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys, type Scope } from '../api-keys.js';
import { type App, buildApp } from '../app.js';
import { PAGE_SECURITY_HEADERS } from '../plugins/security-headers.js';

const SECRETS = {
  full: 'full-key-0123456789abcdef',
  reader: 'reader-key-0123456789abc',
  writer: 'writer-key-0123456789abc',
};
const keys = parseApiKeys(
  Object.entries(SECRETS)
    .map(([name, secret]) => `${name}:${secret}`)
    .join(','),
  'reader=tasks:read;writer=tasks:write',
);

/** A key that lacks `scope`. */
function wrongScopeKey(scope: Scope): string {
  return scope === 'tasks:read' ? SECRETS.writer : SECRETS.reader;
}

const ADMIN = { username: 'ops', password: 'ops-password-0123456789' };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

let app: App;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const prefix = uniquePrefix('authz');
  const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'api');
  const queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog(testTasks) });
  await queue.waitUntilReady();
  app = await buildApp({
    queue,
    apiKeys: keys,
    logger: false,
    limits: { perKeyMax: 100_000, perIpMax: 100_000 },
    emailjs: { redis, secret: 'webhook-secret-0123456789' },
    // Each route is tried with wrong logins: more than the default allowance of one IP.
    admin: { ...ADMIN, loginLimit: { max: 100_000 } },
  });
  await app.ready();
  cleanup = async () => {
    await app.close();
    await queue.close();
    const left = await redis.keys(`${prefix}:*`);
    if (left.length) await redis.del(...left);
    redis.disconnect();
  };
});
afterAll(() => cleanup());

function concrete(url: string): string {
  return url
    .replace(/:task_id|:jobId/g, randomUUID())
    .replace(/:queueName/g, 'default')
    .replace(/:queueStatus/g, 'failed')
    .replace(/:schedulerId/g, 'none')
    .replace(/^\/admin\/static\/\*$/, '/admin/static/favicon.ico')
    .replace(/\*$/, '/x');
}

/** Calls a route with a raw Authorization header (the dashboard takes Basic as well as Bearer). */
async function callRaw(target: App, method: string, url: string, authorization?: string) {
  return target.inject({
    method: method as 'GET',
    url: concrete(url),
    headers: { ...(authorization ? { authorization } : {}), 'content-type': 'application/json' },
    ...(method === 'GET' || method === 'HEAD' ? {} : { payload: '{}' }),
  });
}

async function call(method: string, url: string, authorization?: string) {
  const res = await app.inject({
    method: method as 'GET',
    url: concrete(url),
    headers: {
      ...(authorization ? { authorization: `Bearer ${authorization}` } : {}),
      'content-type': 'application/json',
    },
    ...(method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? {} : { payload: '{}' }),
  });
  return res.statusCode;
}

describe('every route × {no key, bad key, wrong scope, right scope}', () => {
  it('classifies every route: API-key routes name a scope, the rest are public, webhook or admin', () => {
    const unguarded = app.routeTable.filter((r) => r.auth === 'api-key' && !r.scope);
    expect(unguarded, 'routes that take an API key but check no scope').toEqual([]);
    expect(app.routeTable.filter((r) => r.auth === 'api-key').length).toBeGreaterThan(5);
  });

  it('guards the operator listings with tasks:read', () => {
    const scopeOf = (method: string, url: string) =>
      app.routeTable.find((r) => r.method === method && r.url === url)?.scope;
    expect(scopeOf('GET', '/api/tasks/')).toBe('tasks:read');
    expect(scopeOf('GET', '/api/schedules/')).toBe('tasks:read');
  });

  it('puts the write routes behind tasks:write, the bulk enqueue included', () => {
    const scopeOf = (method: string, url: string) =>
      app.routeTable.find((r) => r.method === method && r.url === url)?.scope;
    expect(scopeOf('POST', '/api/tasks/enqueue/')).toBe('tasks:write');
    expect(scopeOf('POST', '/api/tasks/enqueue-bulk/')).toBe('tasks:write');
  });

  it('answers 401, 401, 403 and then lets the request through, on every API-key route', async () => {
    const rows: string[] = [];
    for (const route of app.routeTable.filter((r) => r.auth === 'api-key')) {
      const got = [
        await call(route.method, route.url),
        await call(route.method, route.url, 'not-a-key-0123456789'),
        await call(route.method, route.url, wrongScopeKey(route.scope!)),
        await call(route.method, route.url, SECRETS.full),
      ];
      const ok =
        got[0] === 401 &&
        got[1] === 401 &&
        got[2] === 403 &&
        got[3] !== 401 &&
        got[3] !== 403 &&
        (got[3] ?? 500) < 500;
      if (!ok) rows.push(`${route.method} ${route.url} (${route.scope}): ${got.join(', ')}`);
    }
    expect(rows, 'routes whose answers differ from 401, 401, 403, allowed').toEqual([]);
  });

  it('keeps public routes open and the webhook behind its own secret', async () => {
    for (const route of app.routeTable.filter((r) => r.auth === 'public' && r.method !== 'OPTIONS')) {
      expect([401, 403], `${route.method} ${route.url}`).not.toContain(await call(route.method, route.url));
    }
    for (const route of app.routeTable.filter((r) => r.auth === 'webhook')) {
      // An API key is not the webhook's secret.
      expect(await call(route.method, route.url, SECRETS.full), `${route.method} ${route.url}`).toBe(401);
      expect(await call(route.method, route.url), `${route.method} ${route.url}`).toBe(401);
    }
  });
});

describe('every /admin route × {no creds, bad creds, key without admin scope, admin key, basic auth}', () => {
  it('classifies the dashboard routes as admin', () => {
    const admin = app.routeTable.filter((r) => r.url === '/admin' || r.url.startsWith('/admin/'));
    expect(admin.length, 'dashboard routes').toBeGreaterThan(20);
    expect(admin.filter((r) => r.auth !== 'admin')).toEqual([]);
  });

  it('answers 401 (with a Basic challenge), 401, 401, 403, and then lets the request through', async () => {
    const rows: string[] = [];
    for (const route of app.routeTable.filter((r) => r.auth === 'admin' && r.method !== 'HEAD')) {
      const none = await callRaw(app, route.method, route.url);
      const got = [
        none.statusCode,
        (await callRaw(app, route.method, route.url, basic(ADMIN.username, 'wrong-password'))).statusCode,
        (await callRaw(app, route.method, route.url, 'Bearer not-a-key-0123456789')).statusCode,
        (await callRaw(app, route.method, route.url, `Bearer ${SECRETS.reader}`)).statusCode,
        (await callRaw(app, route.method, route.url, `Bearer ${SECRETS.full}`)).statusCode,
        (await callRaw(app, route.method, route.url, basic(ADMIN.username, ADMIN.password))).statusCode,
      ];
      const through = (s: number | undefined) => s !== undefined && s !== 401 && s !== 403 && s < 500;
      const ok =
        got[0] === 401 &&
        String(none.headers['www-authenticate']).startsWith('Basic realm=') &&
        got[1] === 401 &&
        got[2] === 401 &&
        got[3] === 403 &&
        through(got[4]) &&
        through(got[5]);
      if (!ok) rows.push(`${route.method} ${route.url}: ${got.join(', ')}`);
    }
    expect(rows, 'routes whose answers differ from 401, 401, 401, 403, allowed, allowed').toEqual([]);
  });

  it('answers 401 to every request when neither admin credentials nor admin keys are configured', async () => {
    const prefix = uniquePrefix('authz-closed');
    const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'api');
    const queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog(testTasks) });
    const closed = await buildApp({
      queue,
      apiKeys: parseApiKeys(`reader:${SECRETS.reader}`, 'reader=tasks:read'),
      logger: false,
      admin: { loginLimit: { max: 100_000 } },
    });
    try {
      await closed.ready();
      for (const route of closed.routeTable.filter((r) => r.auth === 'admin' && r.method !== 'HEAD')) {
        for (const auth of [undefined, basic('', ''), basic('admin', 'admin'), `Bearer ${SECRETS.full}`]) {
          const res = await callRaw(closed, route.method, route.url, auth);
          expect(res.statusCode, `${route.method} ${route.url} with ${auth}`).toBe(401);
        }
      }
    } finally {
      await closed.close();
      await queue.close();
      redis.disconnect();
    }
  });

  it('sends the dashboard with its own content security policy and no framing', async () => {
    const page = await callRaw(app, 'GET', '/admin', basic(ADMIN.username, ADMIN.password));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('__UI_CONFIG__');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['strict-transport-security']).toBeDefined();
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    // The 401 carries the headers too.
    const denied = await callRaw(app, 'GET', '/admin');
    expect(String(denied.headers['content-security-policy'])).toContain("default-src 'self'");
    expect(denied.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('security headers', () => {
  it('are set on API answers and on the docs, which also get the page-only ones and a content security policy', async () => {
    const api = await app.inject({ method: 'GET', url: '/api/tasks/list/' });
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    expect(api.headers['strict-transport-security']).toBeDefined();
    expect(api.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(api.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(api.headers['x-permitted-cross-domain-policies']).toBe('none');
    // Page-only headers stay off JSON answers: nothing in them for these to act on.
    for (const name of Object.keys(PAGE_SECURITY_HEADERS)) expect(api.headers[name]).toBeUndefined();
    expect(Object.keys(PAGE_SECURITY_HEADERS).sort()).toEqual([
      'cross-origin-opener-policy',
      'origin-agent-cluster',
      'referrer-policy',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-xss-protection',
    ]);
    for (const url of ['/docs', '/docs/static/swagger-initializer.js']) {
      const docs = await app.inject({ method: 'GET', url });
      expect(docs.statusCode, url).toBeLessThan(400);
      expect(docs.headers['x-frame-options'], url).toBe('SAMEORIGIN');
      expect(docs.headers['x-content-type-options'], url).toBe('nosniff');
      for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS))
        expect(docs.headers[name], `${url} ${name}`).toBe(value);
    }
    const docs = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(String(docs.headers['content-security-policy'])).toContain("default-src 'self'");
  });

  it('answers browsers from other origins without CORS headers (closed), except the webhook’s own list', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/tasks/list/',
      headers: { origin: 'https://evil.example', authorization: `Bearer ${SECRETS.full}` },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
