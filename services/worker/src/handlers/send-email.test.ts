import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, nextEvent, testRedisUrl, waitFor } from '@solar-tasks/testing';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskWorkerEvents } from '../task-worker.js';
import { type BuiltinWorker, startBuiltinWorker } from '../test-fixtures/builtin-worker.js';
import { type SmtpSink, startSmtpSink } from '../test-support/smtp-sink.js';

let worker: BuiltinWorker | undefined;
let smtp: SmtpSink | undefined;
afterEach(async () => {
  await worker?.close();
  await smtp?.close();
  worker = smtp = undefined;
});

const untilFinished = (w: BuiltinWorker, id: string, timeoutMs = 15_000) =>
  waitFor(
    `task ${id} finished`,
    async () => {
      const s = await w.queue.getStatus(id);
      return s && ['completed', 'failed'].includes(s.status) ? s : undefined;
    },
    { timeoutMs },
  );

describe('send_email over SMTP', () => {
  it('delivers the message with its headers, recipients and attachment to a real SMTP server', async () => {
    smtp = await startSmtpSink({ auth: { user: 'mailer', pass: 's3cret-pass' } });
    worker = await startBuiltinWorker(testRedisUrl(), {
      smtp: { url: smtp.url, user: 'mailer', password: 's3cret-pass' },
    });
    await mkdir(join(worker.dataDir, 'reports'), { recursive: true });
    await writeFile(join(worker.dataDir, 'reports', 'quote.csv'), 'kw,price\n6.6,5990\n');
    const { taskId } = await worker.queue.enqueue({
      task_name: 'send_email',
      kwargs: {
        to: 'Ann@Example.com',
        cc: ['bob@example.com'],
        bcc: 'audit@example.com',
        reply_to: 'sales@solar.test',
        subject: 'Your solar quote',
        text: 'Quote attached.',
        html: '<p>Quote attached.</p>',
        attachments: [{ path: 'reports/quote.csv', content_type: 'text/csv' }],
      },
    });
    const done = await untilFinished(worker, taskId);
    expect(done).toMatchObject({ status: 'completed', result: { delivered: 'smtp', accepted: 3 } });
    expect(smtp.received).toHaveLength(1);
    const { envelope, mail } = smtp.received[0]!;
    expect(envelope.to.sort()).toEqual(['ann@example.com', 'audit@example.com', 'bob@example.com']);
    expect(mail.from?.text).toBe('"Solar CRM" <no-reply@solar.test>');
    expect(mail.subject).toBe('Your solar quote');
    expect(mail.messageId).toBe(`<${taskId}@solar-tasks>`);
    expect(mail.headers.get('x-solar-task-id')).toBe(taskId);
    expect(mail.replyTo?.text).toBe('sales@solar.test');
    expect(mail.headers.has('bcc')).toBe(false);
    expect(mail.text?.trim()).toBe('Quote attached.');
    expect(mail.html).toContain('<p>Quote attached.</p>');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]).toMatchObject({ filename: 'quote.csv', contentType: 'text/csv' });
    expect(mail.attachments[0]!.content.toString()).toBe('kw,price\n6.6,5990\n');
  });

  it('retries with exponential backoff while the SMTP server is down, then delivers once it is up', async () => {
    const port = await freePort();
    worker = await startBuiltinWorker(testRedisUrl(), { smtp: { url: `smtp://127.0.0.1:${port}` } });
    const starts: number[] = [];
    worker.worker.on('task:started', () => starts.push(Date.now()));
    const firstFailure = nextEvent<TaskWorkerEvents['task:failed']>(worker.worker, 'task:failed');
    const { taskId } = await worker.queue.enqueue({
      task_name: 'send_email',
      kwargs: { to: 'ann@example.com', subject: 'Hello', text: 'Hi' },
      max_retries: 6,
      retry_delay: 0.25,
    });
    const [failure] = await firstFailure;
    expect(failure).toMatchObject({ taskId, willRetry: true });
    expect(failure.error).toMatch(/ECONNECTION|ESOCKET|ECONNREFUSED/);
    await waitFor('a second attempt failed', () => starts.length >= 2);
    expect((await worker.queue.getStatus(taskId))?.status).toMatch(/retrying|running/);
    smtp = await startSmtpSink({ port });
    const done = await untilFinished(worker, taskId);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBeGreaterThanOrEqual(3);
    expect(smtp.received).toHaveLength(1);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(240);
    expect(gaps[1]).toBeGreaterThanOrEqual(490);
  });

  it('fails at once, masking the address, when the server rejects the recipient with a 5xx', async () => {
    smtp = await startSmtpSink({ rcptReply: (a) => (a.startsWith('nobody') ? 550 : undefined) });
    worker = await startBuiltinWorker(testRedisUrl(), { smtp: { url: smtp.url } });
    const { taskId } = await worker.queue.enqueue({
      task_name: 'send_email',
      kwargs: { to: 'nobody@example.com', subject: 'Hello', text: 'Hi' },
      max_retries: 3,
      retry_delay: 0.05,
    });
    const done = await untilFinished(worker, taskId);
    expect(done).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.error).toMatch(/^SMTP 550/);
    expect(done.error).not.toContain('nobody@example.com');
    expect(smtp.received).toHaveLength(0);
  });

  it('retries a 4xx (temporary) refusal and delivers on the next attempt', async () => {
    let refusals = 0;
    smtp = await startSmtpSink({ rcptReply: () => (refusals++ === 0 ? 451 : undefined) });
    worker = await startBuiltinWorker(testRedisUrl(), { smtp: { url: smtp.url } });
    const { taskId } = await worker.queue.enqueue({
      task_name: 'send_email',
      kwargs: { to: 'ann@example.com', subject: 'Hello', text: 'Hi' },
      max_retries: 3,
      retry_delay: 0.05,
    });
    const done = await untilFinished(worker, taskId);
    expect(done).toMatchObject({ status: 'completed', attempts: 2 });
    expect(smtp.received).toHaveLength(1);
  });
});

describe('send_email without SMTP_URL', () => {
  it('writes an RFC 822 .eml file per task to DATA_DIR/outbox', async () => {
    worker = await startBuiltinWorker(testRedisUrl());
    const { taskId } = await worker.queue.enqueue({
      task_name: 'send_email',
      args: ['ann@example.com', 'Welcome', 'Hello Ann'],
    });
    const done = await untilFinished(worker, taskId);
    expect(done).toMatchObject({ status: 'completed', result: { delivered: 'outbox' } });
    expect(await readdir(join(worker.dataDir, 'outbox'))).toEqual([`${taskId}.eml`]);
    const mail = await simpleParser(await readFile(join(worker.dataDir, 'outbox', `${taskId}.eml`)));
    expect(mail.to).toMatchObject({ text: 'ann@example.com' });
    expect(mail.subject).toBe('Welcome');
    expect(mail.text?.trim()).toBe('Hello Ann');
  });

  it('fails permanently, naming the field, when an attachment is missing', async () => {
    worker = await startBuiltinWorker(testRedisUrl());
    const { taskId } = await worker.queue.enqueue({
      task_name: 'send_email',
      kwargs: { to: 'ann@example.com', subject: 'x', text: 'y', attachments: [{ path: 'reports/none.csv' }] },
      max_retries: 3,
      retry_delay: 0.05,
    });
    const done = await untilFinished(worker, taskId);
    expect(done).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.error).toContain('attachments[0].path');
  });
});
