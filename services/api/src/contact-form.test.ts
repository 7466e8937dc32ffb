import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { type BuiltinWorker, startBuiltinWorker } from '@solar-tasks/worker/test-fixtures';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, buildApp } from './app.js';

const SECRET = 'contact-form-secret-0123';

interface ContactStack {
  url: string;
  worker: BuiltinWorker;
  close(): Promise<void>;
}

let stack: ContactStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** API (listening on a free port) and a real worker with the built-in handlers, on one prefix. */
async function startContactStack(): Promise<ContactStack> {
  const worker = await startBuiltinWorker(testRedisUrl(), { salesNotifyEmail: 'sales@solar.test' });
  const redis = createRedisConnection({ url: testRedisUrl(), prefix: worker.prefix }, 'api');
  const queue = new TaskQueue({ connection: redis, prefix: worker.prefix, catalog: worker.catalog });
  await queue.waitUntilReady();
  const app: App = await buildApp({ queue, apiKeys: [], logger: false, emailjs: { redis, secret: SECRET } });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `${address}/api/webhooks/emailjs/`,
    worker,
    async close() {
      await app.close();
      await queue.close();
      redis.disconnect();
      await worker.close();
    },
  };
}

const fields = {
  from_name: 'Ann Example',
  from_email: 'ann@example.com',
  phone: '0412 345 678',
  postcode: '2000',
  monthly_bill: '320',
  roof_type: 'tile',
  homeowner: 'yes',
  message: 'Quote for a 6.6 kW system please',
};
const envelope = { service_id: 'service_abc', template_id: 'template_xyz', user_id: 'public-key-1' };

/** The three ways a website posts the form: `emailjs.send` (JSON) and `emailjs.sendForm` (two encodings). */
const encodings: Record<string, () => RequestInit> = {
  json: () => ({
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...envelope, template_params: fields, accessToken: 'private-key' }),
  }),
  'x-www-form-urlencoded': () => ({ body: new URLSearchParams({ ...envelope, ...fields }) }),
  'multipart/form-data': () => {
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...envelope, ...fields })) form.set(k, v);
    return { body: form };
  },
};

async function postForm(s: ContactStack, init: RequestInit): Promise<string> {
  const res = await fetch(s.url, {
    method: 'POST',
    ...init,
    headers: { ...(init.headers as Record<string, string>), 'x-emailjs-secret': SECRET },
  });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { task_id: string }).task_id;
}

async function completed(w: BuiltinWorker, taskId: string) {
  return waitFor(`task ${taskId} completed`, async () => {
    const s = await w.queue.getStatus(taskId);
    if (s?.status === 'failed') throw new Error(`task ${taskId} failed: ${s.error}`);
    return s?.status === 'completed' ? s : undefined;
  });
}

/** Waits for the submission task and every child it queued; returns the children's ids. */
async function settle(w: BuiltinWorker, taskId: string) {
  const parent = await completed(w, taskId);
  const r = parent.result as {
    lead_task_id: string;
    sales_email_task_id: string;
    auto_reply_task_id: string;
  };
  for (const id of [r.lead_task_id, r.sales_email_task_id, r.auto_reply_task_id]) await completed(w, id);
  return r;
}

async function sinkState(w: BuiltinWorker) {
  const leads = (await readFile(join(w.dataDir, 'leads.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const outbox = join(w.dataDir, 'outbox');
  const mails = await Promise.all(
    (await readdir(outbox)).sort().map(async (f) => simpleParser(await readFile(join(outbox, f)))),
  );
  return { leads, mails };
}

describe('website contact form → lead and emails', () => {
  it.each(Object.keys(encodings))(
    'a %s post ends with one lead, one sales email and one auto-reply; posting it again changes nothing',
    async (encoding) => {
      stack = await startContactStack();
      const s = stack;
      const taskId = await postForm(s, encodings[encoding]!());
      const children = await settle(s.worker, taskId);

      const { leads, mails } = await sinkState(s.worker);
      expect(leads).toHaveLength(1);
      expect(leads[0]).toMatchObject({
        event: 'created',
        source: 'website',
        lead: {
          name: 'Ann Example',
          email: 'ann@example.com',
          phone: '+61412345678',
          score: 90,
          grade: 'hot',
        },
      });
      expect(mails).toHaveLength(2);
      const sales = mails.find((m) => m.to && !Array.isArray(m.to) && m.to.text === 'sales@solar.test');
      const reply = mails.find((m) => m.to && !Array.isArray(m.to) && m.to.text === 'ann@example.com');
      expect(sales?.subject).toBe('New website lead: Ann Example (hot, 90)');
      expect(sales?.replyTo?.text).toBe('ann@example.com');
      expect(sales?.text).toContain('Phone: 0412 345 678');
      expect(reply?.subject).toBe('Thanks for your enquiry, Ann');
      expect(reply?.text).toContain('Hi Ann,');

      // The same post again: the same task, no new work.
      expect(await postForm(s, encodings[encoding]!())).toBe(taskId);
      // Running the submission task again (as a retry would) finds the same children.
      const { taskId: rerun } = await s.worker.queue.enqueue({
        task_name: 'process_emailjs_submission',
        kwargs: { submission_id: (await s.worker.queue.getStatus(taskId))!.arguments.submission_id },
      });
      const again = await completed(s.worker, rerun);
      expect(again.result).toMatchObject({ ...children, queued: 0 });
      const stats = await s.worker.queue.stats();
      expect(stats.totals).toMatchObject({ pending: 0, scheduled: 0, running: 0, failed: 0, completed: 5 });
      const after = await sinkState(s.worker);
      expect(after.leads).toHaveLength(1);
      expect(after.mails).toHaveLength(2);
    },
  );
});
