import { Writable } from 'node:stream';
import { builtinTasks, emailjsSubmissionKey, TaskCatalog } from '@solar-tasks/contract';
import type { RedisClient } from '@solar-tasks/queue';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { startRedisServer, testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../api-keys.js';
import { type App, buildApp } from '../app.js';
import type { EmailjsWebhookOptions } from './webhook-emailjs.js';

const SECRET = 'webhook-secret-0123456789';
const SITE = 'https://www.solar.example';
const API_KEY = 'api-key-0123456789abcdef';

interface Setup {
  app: App;
  redis: RedisClient;
  queue: TaskQueue;
  prefix: string;
  logs: string[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(emailjs: Partial<EmailjsWebhookOptions> = {}, url = testRedisUrl()): Promise<Setup> {
  const prefix = uniquePrefix('webhook');
  const redis = createRedisConnection({ url, prefix }, 'api');
  const queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog(builtinTasks) });
  await queue.waitUntilReady();
  const logs: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  );
  const app = await buildApp({
    queue,
    apiKeys: parseApiKeys(`admin:${API_KEY}`, undefined),
    logger,
    emailjs: { redis, secret: SECRET, allowedOrigins: [SITE], ...emailjs },
  });
  cleanups.push(async () => {
    await app.close();
    await queue.close();
    const keys = await redis.keys(`${prefix}:*`).catch(() => []);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  return { app, redis, queue, prefix, logs };
}

const payload = {
  service_id: 'service_abc',
  template_id: 'template_xyz',
  user_id: 'public-key-1',
  accessToken: 'emailjs-private-key-must-not-leak',
  template_params: {
    from_name: 'Ann Example',
    from_email: 'ann@example.com',
    reply_to: 'ann@example.com',
    phone: '0412 345 678',
    message: 'Quote for a 6.6 kW system please',
    postcode: '2000',
    monthly_bill: '320',
    roof_type: 'tile',
    homeowner: 'yes',
    how_did_you_hear: 'Google',
  },
};

const post = (
  app: App,
  body: unknown,
  headers: Record<string, string> = {},
  url = '/api/webhooks/emailjs/',
) =>
  app.inject({
    method: 'POST',
    url,
    headers: { 'x-emailjs-secret': SECRET, ...headers },
    ...(typeof body === 'string' ? { payload: body } : { payload: body as object }),
  });

const submissionKeys = (s: Setup) => s.redis.keys(`${s.prefix}:{emailjs}:*`);

describe('POST /api/webhooks/emailjs/', () => {
  it('is closed (401) when no secret is configured, and answers 401 to a wrong secret', async () => {
    const open = await setup({ secret: undefined });
    const res = await post(open.app, payload);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const s = await setup();
    expect((await post(s.app, payload, { 'x-emailjs-secret': 'wrong-secret-0123456789' })).statusCode).toBe(
      401,
    );
    expect((await post(s.app, payload, { 'x-emailjs-secret': '' })).statusCode).toBe(401);
    expect(await submissionKeys(s)).toEqual([]);
  });

  it('accepts the JSON payload of emailjs.send: 202 with the task id, stored without the accessToken', async () => {
    const s = await setup();
    const res = await post(s.app, payload);
    expect(res.statusCode, res.body).toBe(202);
    const { task_id } = res.json() as { task_id: string };
    const status = await s.queue.getStatus(task_id);
    expect(status).toMatchObject({ task_name: 'process_emailjs_submission', status: 'pending' });
    const id = (status!.arguments as { submission_id: string }).submission_id;
    const stored = await s.redis.get(emailjsSubmissionKey(s.prefix, id));
    expect(JSON.parse(stored!)).toMatchObject({
      id,
      service_id: 'service_abc',
      template_id: 'template_xyz',
      lead: {
        name: 'Ann Example',
        email: 'ann@example.com',
        monthly_bill: 320,
        roof_type: 'tile',
        homeowner: true,
      },
      extra: { how_did_you_hear: 'Google' },
    });
    expect(await s.redis.ttl(emailjsSubmissionKey(s.prefix, id))).toBeGreaterThan(86_400);
    expect(stored).not.toContain('emailjs-private-key-must-not-leak');
    expect(s.logs.join('')).not.toContain('emailjs-private-key-must-not-leak');
    expect(s.logs.join('')).not.toContain(SECRET);
  });

  it('accepts the secret as a query token, with or without the trailing slash', async () => {
    const s = await setup();
    const withToken = (url: string) => s.app.inject({ method: 'POST', url, payload });
    const res = await withToken(`/api/webhooks/emailjs?token=${SECRET}`);
    expect(res.statusCode, res.body).toBe(202);
    expect((await withToken(`/api/webhooks/emailjs/?token=${SECRET}`)).json()).toEqual(res.json());
    expect((await withToken('/api/webhooks/emailjs/?token=wrong')).statusCode).toBe(401);
  });

  it('returns the same task id for the same submission posted again, in any field order', async () => {
    const s = await setup();
    const first = (await post(s.app, payload)).json() as { task_id: string };
    const params = Object.fromEntries(Object.entries(payload.template_params).reverse());
    const again = await post(s.app, { ...payload, template_params: params });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first);
    const other = await post(s.app, {
      ...payload,
      template_params: { ...payload.template_params, message: 'Other' },
    });
    expect((other.json() as { task_id: string }).task_id).not.toBe(first.task_id);
    expect((await s.redis.keys(`${s.prefix}:{emailjs}:submission:*`)).length).toBe(2);
  });

  it('accepts emailjs.sendForm posts, form-encoded and multipart', async () => {
    const s = await setup();
    const form = new URLSearchParams({
      service_id: 'service_abc',
      template_id: 'template_xyz',
      user_id: 'public-key-1',
      user_name: 'Bob Form',
      user_email: 'bob@example.com',
      message: 'Hello',
    });
    const encoded = await post(s.app, form.toString(), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(encoded.statusCode, encoded.body).toBe(202);

    const multipart = new FormData();
    multipart.set('user_name', 'Cy Multipart');
    multipart.set('user_phone', '+61 2 9876 5432');
    multipart.set('accessToken', 'emailjs-private-key-must-not-leak');
    const request = new Request('http://x', { method: 'POST', body: multipart });
    const res = await post(s.app, Buffer.from(await request.arrayBuffer()) as unknown as string, {
      'content-type': request.headers.get('content-type')!,
    });
    expect(res.statusCode, res.body).toBe(202);
    const submissions = await Promise.all(
      (await s.redis.keys(`${s.prefix}:{emailjs}:submission:*`)).map(async (k) =>
        JSON.parse((await s.redis.get(k))!),
      ),
    );
    expect(submissions.map((x) => x.lead.name).sort()).toEqual(['Bob Form', 'Cy Multipart']);
    expect(JSON.stringify(submissions)).not.toContain('emailjs-private-key-must-not-leak');
  });

  it('answers 422 naming the field for an invalid payload, and stores nothing', async () => {
    const s = await setup();
    const noContact = await post(s.app, { ...payload, template_params: { from_name: 'Ann' } });
    expect(noContact.statusCode).toBe(422);
    expect(noContact.json()).toMatchObject({
      error: { code: 'VALIDATION_ERROR', details: [{ field: 'template_params.from_email' }] },
    });
    const notObject = await post(s.app, { ...payload, template_params: 'x' });
    expect(notObject.json()).toMatchObject({ error: { details: [{ field: 'template_params' }] } });
    const badForm = await post(s.app, 'user_name=Ann&user_email=ann%40example.com&homeowner=perhaps', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(badForm.statusCode).toBe(422);
    expect(badForm.json()).toMatchObject({ error: { details: [{ field: 'homeowner' }] } });
    const garbage = await post(s.app, '{"template_params":', { 'content-type': 'application/json' });
    expect(garbage.statusCode).toBe(400);
    expect(await submissionKeys(s)).toEqual([]);
  });

  it('answers 400 naming the body for a malformed multipart form, and stores nothing', async () => {
    const s = await setup();
    const part = '--abc\r\nContent-Disposition: form-data; name="user_name"\r\n\r\nAnn';
    for (const [type, body] of [
      ['multipart/form-data; boundary=abc', 'garbage'],
      ['multipart/form-data; boundary=abc', part], // truncated inside a part
      ['multipart/form-data; boundary=abc', '--abc\r\n\r\n'],
      ['multipart/form-data', '--abc--'], // no boundary
    ] as const) {
      const res = await post(s.app, body, { 'content-type': type });
      expect(res.statusCode, `${type} ${JSON.stringify(body)}: ${res.body}`).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'BAD_REQUEST', details: [{ field: 'body' }] } });
    }
    expect(await submissionKeys(s)).toEqual([]);
  });

  it('rejects a submission whose honeypot field is filled, storing nothing', async () => {
    const s = await setup();
    const res = await post(s.app, {
      ...payload,
      template_params: { ...payload.template_params, _gotcha: 'buy now' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      error: { code: 'SUBMISSION_REJECTED', details: { field: 'template_params._gotcha' } },
    });
    expect(await submissionKeys(s)).toEqual([]);
  });

  it('allows CORS only from the configured origins', async () => {
    const s = await setup();
    const preflight = (origin: string) =>
      s.app.inject({
        method: 'OPTIONS',
        url: '/api/webhooks/emailjs/',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const ok = await preflight(SITE);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(SITE);
    const other = await preflight('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const fromSite = await post(s.app, payload, { origin: SITE });
    expect(fromSite.statusCode).toBe(202);
    expect(fromSite.headers['access-control-allow-origin']).toBe(SITE);
    const fromElsewhere = await post(s.app, payload, { origin: 'https://evil.example' });
    expect(fromElsewhere.statusCode).toBe(403);
    // The task routes stay without CORS.
    const tasks = await s.app.inject({ method: 'GET', url: '/api/tasks/list/', headers: { origin: SITE } });
    expect(tasks.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('limits submissions per client IP, counting failed logins too', async () => {
    const s = await setup({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await post(s.app, payload, { 'x-emailjs-secret': 'wrong-secret-0123456789' })).statusCode);
    const limited = await post(s.app, payload);
    expect(codes).toEqual([401, 401, 401]);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const otherIp = await s.app.inject({
      method: 'POST',
      url: '/api/webhooks/emailjs/',
      remoteAddress: '10.9.8.7',
      headers: { 'x-emailjs-secret': SECRET },
      payload,
    });
    expect(otherIp.statusCode).toBe(202);
  });

  it('leaves the other routes JSON-only', async () => {
    const s = await setup();
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/tasks/enqueue/',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': API_KEY },
      payload: 'task_name=send_email',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });

  it('is described in the OpenAPI document with its own security schemes', async () => {
    const s = await setup();
    const doc = (await s.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, { post?: { security?: unknown; tags?: string[] } }>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.paths['/api/webhooks/emailjs/']?.post).toMatchObject({
      tags: ['webhooks'],
      security: [{ emailjsSecret: [] }, { emailjsToken: [] }],
    });
    expect(doc.components.securitySchemes.emailjsSecret).toMatchObject({
      in: 'header',
      name: 'X-EmailJS-Secret',
    });
  });

  it('answers 503 fast while Redis is down, and accepts the same post once it is back', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop({ removeData: true }));
    const s = await setup({}, server.url);
    await server.kill();
    const t0 = Date.now();
    const down = await post(s.app, payload);
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ error: { code: 'QUEUE_UNAVAILABLE' } });
    expect(Date.now() - t0).toBeLessThan(3000);
    const restarted = await server.restart();
    cleanups.push(() => restarted.stop({ removeData: true }));
    await waitFor('the API reconnects', async () => (await s.queue.ping()) === true, { timeoutMs: 15_000 });
    const up = await post(s.app, payload);
    expect(up.statusCode, up.body).toBe(202);
    expect(await submissionKeys(s)).toHaveLength(2); // the submission and its duplicate guard
  });
});
