import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { builtinTasks, ERROR_CODES, TaskCatalog } from '@solar-tasks/contract';
import type { RedisClient } from '@solar-tasks/queue';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { createLogger } from '@solar-tasks/runtime';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { testTasks } from '@solar-tasks/worker/test-fixtures';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../api-keys.js';
import { type App, buildApp } from '../app.js';

/**
 * Property-based fuzz over every route, method, header and body shape. The
 * properties: no answer is a 5xx; every error body is the catalog's shape;
 * the process keeps answering; and Redis holds exactly the tasks that were
 * answered with success — nothing that got an error was half-stored.
 */

const KEY = 'fuzz-key-0123456789abcdef';
const READER = 'fuzz-reader-0123456789ab';
const WEBHOOK = 'fuzz-webhook-secret-0123';
const catalog = new TaskCatalog([...builtinTasks, ...testTasks]);

let app: App;
let queue: TaskQueue;
let redis: RedisClient;
let prefix: string;
/** The app's error lines (an unexpected error is logged with its stack): shown with a failure. */
const errorLines: string[] = [];

beforeAll(async () => {
  prefix = uniquePrefix('fuzz');
  redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'api');
  queue = new TaskQueue({ connection: redis, prefix, catalog });
  await queue.waitUntilReady();
  app = await buildApp({
    queue,
    apiKeys: parseApiKeys(`fuzz:${KEY},reader:${READER}`, 'reader=tasks:read'),
    logger: createLogger({
      name: 'api',
      level: 'error',
      destination: new Writable({
        write(chunk, _enc, done) {
          errorLines.push(String(chunk));
          done();
        },
      }),
    }),
    limits: { perKeyMax: 1_000_000, perIpMax: 1_000_000 },
    // About input, not latency: a slow, busy CI machine must not turn into 503s here.
    redisDeadlineMs: 10_000,
    emailjs: {
      redis,
      secret: WEBHOOK,
      allowedOrigins: ['https://www.example.com'],
      rateLimit: { max: 1_000_000 },
    },
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await queue.close();
  const left = await redis.keys(`${prefix}:*`);
  if (left.length) await redis.del(...left);
  redis.disconnect();
});

const routeUrls = () => [...new Set(app.routeTable.map((r) => r.url))];

const idLike = fc.oneof(
  fc.constant(randomUUID()),
  fc.uuid(),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '../../etc/passwd',
    '%00',
    '%2e%2e%2f',
    'x'.repeat(300),
    '{"a":1}',
    '__proto__',
    'constructor',
  ),
);

const pathArb = () =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...routeUrls()), idLike)
        .map(([url, id]) => url.replace(':task_id', encodeURIComponent(id)).replace('*', id)),
    },
    { weight: 1, arbitrary: fc.webPath() },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...routeUrls()), fc.webQueryParameters())
        .map(([u, q]) => `${u.replace(':task_id', randomUUID())}?${q}`),
    },
  );

const taskName = fc.oneof(
  fc.constantFrom(...catalog.names()),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('__proto__', 'constructor', 'toString'),
);

const enqueueBody = fc
  .record(
    {
      task_name: taskName,
      args: fc.array(fc.oneof(fc.anything(), fc.emailAddress(), fc.integer()), { maxLength: 6 }),
      kwargs: fc.dictionary(
        fc.oneof(
          fc.constantFrom('to', 'subject', 'text', 'a', 'b', 'label', 'ms', 'name', 'email', '__proto__'),
          fc.string(),
        ),
        fc.anything(),
        { maxKeys: 6 },
      ),
      priority: fc.oneof(fc.integer({ min: -5, max: 15 }), fc.anything()),
      max_retries: fc.oneof(fc.integer({ min: -1, max: 200 }), fc.anything()),
      retry_delay: fc.oneof(fc.double(), fc.anything()),
      countdown: fc.oneof(fc.double({ min: -10, max: 10 }), fc.anything()),
      eta: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string(),
      ),
      idempotency_key: fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('k1', 'k2', 'k3')),
    },
    { requiredKeys: ['task_name'] },
  )
  .map((b) => JSON.stringify(b));

const webhookBody = fc
  .record(
    {
      service_id: fc.string({ maxLength: 20 }),
      template_id: fc.string({ maxLength: 20 }),
      accessToken: fc.string({ maxLength: 20 }),
      template_params: fc.record(
        {
          from_name: fc.oneof(fc.string({ maxLength: 60 }), fc.anything()),
          from_email: fc.oneof(fc.emailAddress(), fc.string()),
          phone: fc.oneof(fc.constantFrom('+61 412 345 678', '0412345678'), fc.string()),
          message: fc.string({ maxLength: 200 }),
          monthly_bill: fc.oneof(fc.integer({ min: -10, max: 2000 }), fc.string()),
          homeowner: fc.oneof(fc.boolean(), fc.string()),
          website: fc.oneof(fc.constant(''), fc.string()),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  )
  .map((b) => JSON.stringify(b));

/** Multipart bodies for boundary XYZ: parts well-formed or not, truncated anywhere. */
const multipartPart = fc.oneof(
  fc
    .record({
      name: fc.constantFrom('from_name', 'user_email', 'message', 'x'),
      value: fc.string({ maxLength: 40 }),
    })
    .map(({ name, value }) => `--XYZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
  fc.constant('--XYZ\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nfile\r\n'),
  fc.string({ maxLength: 40 }).map((h) => `--XYZ\r\n${h}\r\n\r\nv\r\n`),
  fc.string({ maxLength: 40 }),
);
const multipartBody = fc
  .record({
    parts: fc.array(multipartPart, { maxLength: 4 }),
    end: fc.constantFrom('--XYZ--\r\n', '--XYZ', '', '--XY'),
    cut: fc.option(fc.nat({ max: 200 })),
  })
  .map(({ parts, end, cut }) => {
    const text = parts.join('') + end;
    return cut === null ? text : text.slice(0, cut);
  });

/** Well-formed requests, so the properties also cover what gets stored. */
const validEnqueue = fc
  .record(
    {
      task: fc.oneof(
        fc.tuple(fc.integer(), fc.integer()).map(([a, b]) => ({ task_name: 'add_numbers', args: [a, b] })),
        fc.string({ maxLength: 50 }).map((label) => ({ task_name: 'record_label', kwargs: { label } })),
      ),
      priority: fc.integer({ min: 1, max: 10 }),
      countdown: fc.integer({ min: 0, max: 3600 }),
      idempotency_key: fc.constantFrom('idem-a', 'idem-b', 'idem-c'),
    },
    { requiredKeys: ['task'] },
  )
  .map(({ task, ...rest }) => JSON.stringify({ ...task, ...rest }));

/** Bulk bodies: mostly lists of enqueue bodies (valid or not), sometimes other shapes. */
const bulkBody = fc.oneof(
  fc
    .array(fc.oneof(validEnqueue, enqueueBody), { minLength: 0, maxLength: 8 })
    .map((items) => `{"tasks":[${items.join(',')}]}`),
  fc.array(validEnqueue, { minLength: 1, maxLength: 8 }).map((items) => `{"tasks":[${items.join(',')}]}`),
  fc.jsonValue().map((v) => JSON.stringify({ tasks: v })),
);

const body = fc.oneof(
  { weight: 3, arbitrary: validEnqueue },
  { weight: 4, arbitrary: enqueueBody },
  { weight: 2, arbitrary: webhookBody },
  { weight: 2, arbitrary: bulkBody },
  { weight: 2, arbitrary: fc.json() },
  {
    weight: 1,
    arbitrary: fc.jsonValue().map((v) => JSON.stringify({ task_name: 'add_numbers', args: [v, v] })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1000, max: 400_000 })
      .map((n) => JSON.stringify({ task_name: 'record_label', args: ['x'.repeat(n)] })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"x":1}}',
      '{"task_name":"add_numbers","constructor":{"prototype":{"x":1}}}',
      '{"a":1',
      '',
      'null',
      '[]',
      '"str"',
      '1e999',
    ),
  },
  { weight: 1, arbitrary: fc.webQueryParameters() },
);

const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json'),
  fc.constantFrom(
    undefined,
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=XYZ',
    'application/xml',
    'application/json; boundary=',
  ),
  fc.string({ maxLength: 40 }),
);

const auth = fc.constantFrom<Record<string, string>>(
  {},
  { authorization: `Bearer ${KEY}` },
  { authorization: `Bearer ${KEY}` },
  { 'x-api-key': KEY },
  { authorization: `Bearer ${READER}` },
  { authorization: 'Bearer wrong-key-0123456789' },
  { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
  { authorization: `Bearer ${'k'.repeat(5000)}` },
  { 'x-emailjs-secret': WEBHOOK },
  { 'x-emailjs-secret': 'nope' },
);

const extraHeaders = fc.record(
  {
    'idempotency-key': fc.string({ maxLength: 300 }),
    origin: fc.constantFrom('https://www.example.com', 'https://evil.example', 'null'),
    'x-request-id': fc.string({ maxLength: 120 }),
    'x-forwarded-for': fc.ipV4(),
    'content-length': fc.nat({ max: 10 }).map(String),
  },
  { requiredKeys: [] },
);

const randomRequest = () =>
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    // A request line always has a path: an empty one cannot reach a server.
    url: pathArb().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    body,
    contentType,
    auth,
    extra: extraHeaders,
  });

/** Requests aimed at the routes that store things, mostly well-formed, so storage is exercised. */
const targetedRequest = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    url: fc.constantFrom('/api/tasks/enqueue/', '/api/tasks/enqueue'),
    body: fc.oneof(validEnqueue, enqueueBody),
    contentType: fc.constant('application/json'),
    auth: fc.constantFrom<Record<string, string>>(
      { authorization: `Bearer ${KEY}` },
      { 'x-api-key': KEY },
      { authorization: `Bearer ${READER}` },
    ),
    extra: extraHeaders,
  }),
  fc.record({
    method: fc.constant('POST'),
    url: fc.constantFrom('/api/tasks/enqueue-bulk/', '/api/tasks/enqueue-bulk'),
    body: bulkBody,
    contentType: fc.constant('application/json'),
    auth: fc.constantFrom<Record<string, string>>(
      { authorization: `Bearer ${KEY}` },
      { 'x-api-key': KEY },
      { authorization: `Bearer ${READER}` },
    ),
    extra: extraHeaders,
  }),
  fc.record({
    method: fc.constant('POST'),
    url: fc.constantFrom('/api/webhooks/emailjs/', `/api/webhooks/emailjs/?token=${WEBHOOK}`),
    body: webhookBody,
    contentType: fc.constant('application/json'),
    auth: fc.constantFrom<Record<string, string>>({ 'x-emailjs-secret': WEBHOOK }, {}),
    extra: extraHeaders,
  }),
  // Multipart bodies, mostly broken (a run once found a truncated part answered 500).
  fc.record({
    method: fc.constant('POST'),
    url: fc.constant('/api/webhooks/emailjs/'),
    body: multipartBody,
    contentType: fc.constantFrom(
      'multipart/form-data; boundary=XYZ',
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'multipart/form-data; boundary=other',
    ),
    auth: fc.constant<Record<string, string>>({ 'x-emailjs-secret': WEBHOOK }),
    extra: extraHeaders,
  }),
);

/** A cursor: garbage, base64url of any JSON, or a well-formed one with hostile values. */
const cursorArb = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')),
  fc
    .record({
      v: fc.constantFrom(1, 2),
      q: fc.integer({ min: -2, max: 1001 }),
      s: fc.integer({ min: -1, max: 8 }),
      id: fc.oneof(fc.string({ maxLength: 220 }), fc.constant(null)),
      at: fc.oneof(fc.double(), fc.integer(), fc.constant(null)),
      st: fc.constantFrom(null, 'failed'),
      tn: fc.constantFrom(null, 'echo'),
    })
    .map((c) => Buffer.from(JSON.stringify(c)).toString('base64url')),
);

/** `GET /api/tasks/` with every filter and paging parameter, mostly hostile. */
const listingRequest = fc.record({
  method: fc.constant('GET'),
  url: fc
    .record(
      {
        status: fc.oneof(
          fc.constantFrom('pending', 'failed', 'cancelled', 'nope', ''),
          fc.string({ maxLength: 10 }),
        ),
        task_name: fc.oneof(taskName, fc.string({ maxLength: 80 })),
        limit: fc.oneof(fc.integer({ min: -5, max: 600 }).map(String), fc.string({ maxLength: 6 })),
        cursor: cursorArb,
        extra: fc.string({ maxLength: 5 }),
      },
      { requiredKeys: [] },
    )
    .map((q) => `/api/tasks/?${new URLSearchParams(q as Record<string, string>).toString()}`),
  body: fc.constant(''),
  contentType: fc.constant('application/json'),
  auth: fc.constantFrom<Record<string, string>>(
    { authorization: `Bearer ${KEY}` },
    { authorization: `Bearer ${READER}` },
  ),
  extra: extraHeaders,
});

const requestArb = () =>
  fc.oneof(
    { weight: 3, arbitrary: randomRequest() },
    { weight: 1, arbitrary: targetedRequest },
    { weight: 1, arbitrary: listingRequest },
  );

function headerSafe(headers: Record<string, string | undefined>): Record<string, string> {
  // Node refuses header values with control characters before any server sees them.
  return Object.fromEntries(
    Object.entries(headers).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && ![...e[1]].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    ),
  );
}

describe('fuzzing every route', () => {
  it('never answers 5xx, keeps the error shape, and stores a task only for a success', async () => {
    const acceptedTaskIds = new Set<string>();
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    // Printed with any failure: FUZZ_SEED=<seed> replays the same run.
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    await fc.assert(
      fc.asyncProperty(requestArb(), async (r) => {
        const { 'content-length': _ignored, ...extra } = r.extra;
        const res = await app.inject({
          method: r.method as 'GET',
          url: r.url,
          headers: headerSafe({ ...extra, ...r.auth, 'content-type': r.contentType }),
          ...(r.method === 'GET' || r.method === 'HEAD' ? {} : { payload: r.body }),
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500)
          failures.push(
            `FUZZ_SEED=${seed}: ${r.method} ${r.url} ${JSON.stringify(r.contentType)} ${JSON.stringify(String(r.body ?? '')).slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 200)}`,
          );
        if (res.statusCode >= 400 && r.method !== 'HEAD') {
          const json = res.json() as { error?: { code?: string; message?: string } };
          expect(Object.keys(ERROR_CODES), `${r.method} ${r.url} ${res.body.slice(0, 120)}`).toContain(
            json.error?.code,
          );
          expect(res.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
        }
        if (res.statusCode === 201 || res.statusCode === 202) {
          const json = res.json() as { task_id?: string; tasks?: { task_id: string }[] };
          if (json.task_id) acceptedTaskIds.add(json.task_id);
          for (const t of json.tasks ?? []) acceptedTaskIds.add(t.task_id);
        }
      }),
      { numRuns: 2500, seed },
    );
    expect(failures, errorLines.join('').slice(0, 4000)).toEqual([]);

    // The process still answers normally.
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);

    // Redis holds exactly the tasks that were acknowledged (idempotent repeats answer 200 and add none).
    let stored = 0;
    for (const name of queue.queueNames()) {
      const counts = await queue.bullQueue(name).getJobCounts();
      stored += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    expect(stored).toBe(acceptedTaskIds.size);
    // Enough of the runs got past authentication and validation to mean something. About 12 of
    // the 2,500 runs store a task (201/202), so "more than 5" failed about one run in 25; more than
    // 2 fails about one in 2,000.
    expect((statuses.get(201) ?? 0) + (statuses.get(202) ?? 0)).toBeGreaterThan(2);
    expect([...statuses.keys()].filter((s) => s >= 400 && s < 500).length).toBeGreaterThan(5);
  }, 120_000);

  it('survives the same hostile bodies over real HTTP', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const samples = fc.sample(requestArb(), { numRuns: 200, seed: 42 });
    for (const r of samples) {
      const res = await fetch(`${address}${r.url}`, {
        method: r.method,
        headers: headerSafe({ ...r.auth, 'content-type': r.contentType }),
        ...(r.method === 'GET' || r.method === 'HEAD' ? {} : { body: r.body }),
      }).catch((err: Error) => ({ status: 0, error: err.message }));
      expect(res.status, `${r.method} ${r.url}`).toBeLessThan(500);
    }
  }, 60_000);
});
