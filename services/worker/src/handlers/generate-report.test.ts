import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskStatusResponse } from '@solar-tasks/contract';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { percentile, type TaskSummaryRow } from '../reports/task-summary-report.js';
import { type BuiltinWorker, startBuiltinWorker } from '../test-fixtures/builtin-worker.js';

let worker: BuiltinWorker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

const untilFinished = (w: BuiltinWorker, id: string) =>
  waitFor(`task ${id} finished`, async () => {
    const s = await w.queue.getStatus(id);
    return s && ['completed', 'failed', 'cancelled'].includes(s.status) ? s : undefined;
  });

async function run(w: BuiltinWorker, task_name: string, kwargs: Record<string, unknown>, extra = {}) {
  const { taskId } = await w.queue.enqueue({ task_name, kwargs, ...extra });
  return { taskId, status: await untilFinished(w, taskId) };
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('generate_report', () => {
  it('summarises seeded tasks per name: counts by final status, mean and p95 run time, top failures', async () => {
    worker = await startBuiltinWorker(testRedisUrl());
    const w = worker;
    const ids: Record<string, string[]> = {};
    const seed = async (name: string, kwargs: Record<string, unknown>, extra = {}) => {
      const { taskId } = await run(w, name, kwargs, extra);
      ids[name] = [...(ids[name] ?? []), taskId];
    };
    for (const ms of [20, 40, 60, 80, 100]) await seed('sleep_ms', { ms });
    for (const a of [1, 2, 3]) await seed('add_numbers', { a, b: 1 });
    await seed('flaky', { fail_times: 9 }, { max_retries: 1, retry_delay: 0.02 });
    await seed('flaky', { fail_times: 9 }, { max_retries: 1, retry_delay: 0.02 });
    await seed('flaky', { fail_times: 0 });
    await seed('permanent_failure', {});
    // A task cancelled before it ran: it ends as cancelled, with no run time.
    const { taskId: cancelledId } = await w.queue.enqueue({
      task_name: 'sleep_ms',
      args: [5],
      countdown: 60,
    });
    await w.queue.cancel(cancelledId);
    const bull = w.queue.bullQueue('default');
    await waitFor(
      'the cancelled task is discarded',
      async () => (await bull.getJobState(cancelledId)) === 'failed',
    );

    const report = await run(w, 'generate_report', {
      kind: 'task_summary',
      from: day(-1),
      to: day(1),
      format: 'json',
    });
    expect(report.status).toMatchObject({
      status: 'completed',
      result: { path: `reports/task_summary_${day(-1)}_${day(1)}.json`, rows: 4 },
    });
    const doc = JSON.parse(
      await readFile(join(w.dataDir, 'reports', `task_summary_${day(-1)}_${day(1)}.json`), 'utf8'),
    );
    expect(doc).toMatchObject({ kind: 'task_summary', from: day(-1), to: day(1) });
    const rows = Object.fromEntries((doc.rows as TaskSummaryRow[]).map((r) => [r.task_name, r]));
    expect(Object.keys(rows)).toEqual(['add_numbers', 'flaky', 'permanent_failure', 'sleep_ms']);

    // Run times from BullMQ's own view of the jobs: the last attempt's processedOn → finishedOn.
    const runTimes = async (name: string) =>
      Promise.all(
        ids[name]!.map(async (id) => {
          const job = (await bull.getJob(id))!;
          return job.finishedOn! - job.processedOn!;
        }),
      );
    const sleeps = await runTimes('sleep_ms');
    expect(rows.sleep_ms).toEqual({
      task_name: 'sleep_ms',
      completed: 5,
      failed: 0,
      cancelled: 1,
      total: 6,
      mean_ms: Math.round(sleeps.reduce((a, b) => a + b, 0) / 5),
      p95_ms: percentile(sleeps, 0.95),
      top_failures: [],
    });
    expect(rows.sleep_ms!.mean_ms).toBeGreaterThanOrEqual(60);
    expect(rows.sleep_ms!.p95_ms).toBeGreaterThanOrEqual(100);
    expect(rows.add_numbers).toMatchObject({ completed: 3, failed: 0, cancelled: 0, total: 3 });
    expect(rows.flaky).toMatchObject({
      completed: 1,
      failed: 2,
      total: 3,
      top_failures: [{ reason: 'flaky failure 2', count: 2 }],
    });
    expect(rows.permanent_failure).toMatchObject({
      failed: 1,
      top_failures: [{ reason: 'recipient rejected', count: 1 }],
    });

    const empty = await run(w, 'generate_report', {
      kind: 'task_summary',
      from: '2020-01-01',
      to: '2020-01-31',
    });
    expect(empty.status.result).toMatchObject({
      rows: 0,
      path: 'reports/task_summary_2020-01-01_2020-01-31.csv',
    });
    expect(await readFile(join(w.dataDir, 'reports/task_summary_2020-01-01_2020-01-31.csv'), 'utf8')).toBe(
      'task_name,completed,failed,cancelled,total,mean_ms,p95_ms,top_failures\n',
    );
  });

  it('sums leads per day from the lead sink, and e-mails the CSV when asked', async () => {
    worker = await startBuiltinWorker(testRedisUrl());
    const w = worker;
    const lead = async (kwargs: Record<string, unknown>) => {
      const { status } = await run(w, 'process_lead', kwargs);
      expect(status.status, status.error ?? '').toBe('completed');
      return status;
    };
    // 2026-10-01: two new leads, scores 85 (bill 40 + owner 25 + metal 15 + email 5) and 5 (phone only).
    await lead({
      name: 'Ann',
      email: 'a@example.com',
      monthly_bill: 500,
      homeowner: true,
      roof_type: 'metal',
      source: 'website',
      submitted_at: '2026-10-01T10:00:00Z',
    });
    await lead({ name: 'Bob', phone: '0412 000 111', submitted_at: '2026-10-01T23:59:59Z' });
    // 2026-10-02: one new lead (bill 10 + email 5 + postcode 5 = 20) and Ann again (merged).
    await lead({
      name: 'Cy',
      email: 'c@example.com',
      postcode: '3000',
      monthly_bill: 100,
      source: 'website',
      submitted_at: '2026-10-02T08:00:00Z',
    });
    await lead({
      name: 'Ann',
      email: 'A@example.com',
      source: 'website',
      submitted_at: '2026-10-02T09:00:00Z',
    });
    // Outside the period.
    await lead({ name: 'Di', email: 'd@example.com', submitted_at: '2026-09-30T12:00:00Z' });

    const report = await run(w, 'generate_report', {
      kind: 'leads',
      from: '2026-10-01',
      to: '2026-10-02',
      format: 'csv',
      email_to: 'boss@example.com',
    });
    expect(report.status).toMatchObject({
      status: 'completed',
      result: { path: 'reports/leads_2026-10-01_2026-10-02.csv', rows: 2 },
    });
    const csv = await readFile(join(w.dataDir, 'reports/leads_2026-10-01_2026-10-02.csv'), 'utf8');
    expect(csv).toBe(
      'date,leads,merged,mean_score,by_source\n2026-10-01,2,0,45,api:1; website:1\n2026-10-02,1,1,20,website:1\n',
    );

    const emailTaskId = (report.status.result as { email_task_id: string }).email_task_id;
    const sent = (await untilFinished(w, emailTaskId)) as TaskStatusResponse;
    expect(sent.status).toBe('completed');
    const mail = await simpleParser(await readFile(join(w.dataDir, 'outbox', `${emailTaskId}.eml`)));
    expect(mail.to).toMatchObject({ text: 'boss@example.com' });
    expect(mail.attachments[0]).toMatchObject({ filename: 'leads_2026-10-01_2026-10-02.csv' });
    expect(mail.attachments[0]!.content.toString()).toBe(csv);
    expect(await readdir(join(w.dataDir, 'outbox'))).toHaveLength(1);
  });
});
