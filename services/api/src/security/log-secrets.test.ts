import { Writable } from 'node:stream';
import { createRedisConnection } from '@solar-tasks/queue';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { type SmtpSink, startBuiltinWorker, startSmtpSink } from '@solar-tasks/worker/test-fixtures';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../api-keys.js';
import { buildApp } from '../app.js';

/**
 * Logs captured while the whole system does its work with every kind of
 * secret configured: none of the secrets may appear, and at info level
 * neither may a customer's e-mail address or phone number.
 */

const SECRETS = {
  apiKey: 'log-test-key-5f1e2d3c4b5a69788796a5b4',
  readerKey: 'log-reader-key-0a1b2c3d4e5f60718293',
  webhook: 'log-webhook-secret-9f8e7d6c5b4a3',
  smtpPassword: 'smtp-pass-Zq8x!Vb27@Lk',
  accessToken: 'emailjs-private-key-7Hn2Qw9Rt4',
};
const CUSTOMER = { email: 'jane.customer@example.org', phoneDigits: '412345678' };

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('logs', () => {
  it('carry no configured secret, and mask customers’ addresses and phones at info level', async () => {
    const apiLog = capture();
    const workerLog = capture();
    const smtp: SmtpSink = await startSmtpSink({ auth: { user: 'mailer', pass: SECRETS.smtpPassword } });
    closers.push(() => smtp.close());
    const worker = await startBuiltinWorker(testRedisUrl(), {
      logger: workerLog.logger,
      smtp: { url: smtp.url, user: 'mailer', password: SECRETS.smtpPassword },
    });
    closers.push(() => worker.close());
    const redis = createRedisConnection({ url: testRedisUrl(), prefix: worker.prefix }, 'api');
    closers.push(async () => redis.disconnect());
    const app = await buildApp({
      queue: worker.queue,
      apiKeys: parseApiKeys(`crm:${SECRETS.apiKey},reader:${SECRETS.readerKey}`, 'reader=tasks:read'),
      logger: apiLog.logger,
      limits: { redis, nameSpace: `${worker.prefix}:rate-limit:` },
      emailjs: { redis, secret: SECRETS.webhook },
    });
    closers.push(() => app.close());

    const auth = { authorization: `Bearer ${SECRETS.apiKey}` };
    // A bad key, a key without the scope, a body the API refuses, and successful calls.
    await app.inject({
      method: 'GET',
      url: '/api/tasks/list/',
      headers: { authorization: 'Bearer guessed-key-0123456789' },
    });
    await app.inject({
      method: 'POST',
      url: '/api/tasks/enqueue/',
      headers: { 'x-api-key': SECRETS.readerKey },
      payload: {},
    });
    await app.inject({
      method: 'POST',
      url: '/api/tasks/enqueue/',
      headers: auth,
      payload: { task_name: 'send_email', args: [1] },
    });
    const email = await app.inject({
      method: 'POST',
      url: '/api/tasks/enqueue/',
      headers: auth,
      payload: {
        task_name: 'send_email',
        kwargs: { to: CUSTOMER.email, subject: 'Your quote', text: 'Hello' },
      },
    });
    expect(email.statusCode).toBe(201);
    const webhook = await app.inject({
      method: 'POST',
      url: `/api/webhooks/emailjs/?token=${SECRETS.webhook}`,
      payload: {
        service_id: 'svc',
        template_id: 'tpl',
        accessToken: SECRETS.accessToken,
        template_params: {
          from_name: 'Jane Customer',
          from_email: CUSTOMER.email,
          phone: `+61 ${CUSTOMER.phoneDigits}`,
          message: 'Quote please',
        },
      },
    });
    expect(webhook.statusCode).toBe(202);

    // Wait for the work to happen: the customer's email, then the lead, sales mail and auto-reply.
    await waitFor('four mails reach the SMTP server', () => smtp.received.length >= 3, { timeoutMs: 20_000 });
    await waitFor(
      'all tasks finished',
      async () => {
        const stats = await worker.queue.stats();
        return stats.totals.pending + stats.totals.running + stats.totals.scheduled === 0;
      },
      { timeoutMs: 20_000 },
    );
    apiLog.logger.flush();
    workerLog.logger.flush();

    const all = [...apiLog.lines, ...workerLog.lines];
    expect(all.length).toBeGreaterThan(5);
    expect(all.some((l) => l.includes('task completed'))).toBe(true);
    for (const [name, secret] of Object.entries(SECRETS)) {
      expect(
        all.filter((l) => l.includes(secret)),
        `log lines containing ${name}`,
      ).toEqual([]);
    }
    const info = all.filter((l) => /"level":(30|40|50|60)|"level":"(info|warn|error|fatal)"/.test(l));
    expect(
      info.filter((l) => l.includes(CUSTOMER.email)),
      'info lines with the customer’s address',
    ).toEqual([]);
    expect(
      info.filter((l) => l.includes(CUSTOMER.phoneDigits)),
      'info lines with the customer’s phone',
    ).toEqual([]);
    // The key's name, never the key, identifies the caller.
    expect(apiLog.lines.some((l) => l.includes('"api_key":"crm"'))).toBe(true);
  }, 60_000);
});
