import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskStatusResponse } from '@solar-tasks/contract';
import { testRedisUrl, waitFor } from '@solar-tasks/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type BuiltinWorker, startBuiltinWorker } from '../test-fixtures/builtin-worker.js';
import { type CrmServer, startCrmServer } from '../test-support/crm-server.js';

let worker: BuiltinWorker | undefined;
let crm: CrmServer | undefined;
afterEach(async () => {
  await worker?.close();
  await crm?.close();
  worker = crm = undefined;
});

const untilFinished = (w: BuiltinWorker, id: string) =>
  waitFor(`task ${id} finished`, async () => {
    const s = await w.queue.getStatus(id);
    return s && ['completed', 'failed'].includes(s.status) ? s : undefined;
  });

async function runLead(w: BuiltinWorker, kwargs: Record<string, unknown>): Promise<TaskStatusResponse> {
  const { taskId } = await w.queue.enqueue({
    task_name: 'process_lead',
    kwargs,
    max_retries: 3,
    retry_delay: 0.1,
  });
  return untilFinished(w, taskId);
}

const ann = {
  name: '  Ann Example ',
  email: 'Ann@Example.COM',
  phone: '0412 345 678',
  postcode: '2000',
  monthly_bill: 320,
  roof_type: 'tile',
  homeowner: true,
  message: 'Interested in a 6.6 kW system',
  source: 'website',
  submitted_at: '2026-11-02T09:30:00+11:00',
};

describe('process_lead', () => {
  it('normalises and scores a lead and appends it to DATA_DIR/leads.jsonl', async () => {
    worker = await startBuiltinWorker(testRedisUrl());
    const done = await runLead(worker, ann);
    // bill 320 → 30, homeowner → 25, tile roof → 15, email+phone+postcode+message → 20
    expect(done).toMatchObject({
      status: 'completed',
      result: {
        outcome: 'created',
        score: 90,
        grade: 'hot',
        sink: `file:${join(worker.dataDir, 'leads.jsonl')}`,
      },
    });
    const lines = (await readFile(join(worker.dataDir, 'leads.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]!);
    expect(event).toMatchObject({
      event: 'created',
      submitted_at: '2026-11-01T22:30:00.000Z',
      source: 'website',
      lead: {
        name: 'Ann Example',
        email: 'ann@example.com',
        phone: '+61412345678',
        score: 90,
        score_breakdown: { bill: 30, homeowner: 25, roof: 15, completeness: 20 },
        submissions: 1,
      },
    });
    expect(event.lead.applied).toBeUndefined();
  });

  it('delivers to the CRM exactly once, with the same Idempotency-Key, when the first delivery gets a 500', async () => {
    crm = await startCrmServer((n) => (n === 1 ? 500 : 201));
    worker = await startBuiltinWorker(testRedisUrl(), { leadSinkUrl: crm.url, leadSinkToken: 'crm-token-1' });
    const done = await runLead(worker, ann);
    expect(done).toMatchObject({ status: 'completed', attempts: 2, result: { outcome: 'created' } });
    expect(crm.requests.map((r) => r.status)).toEqual([500, 201]);
    expect(crm.requests[0]!.idempotencyKey).toBeTruthy();
    expect(crm.requests[1]!.idempotencyKey).toBe(crm.requests[0]!.idempotencyKey);
    expect(crm.requests[0]!.authorization).toBe('Bearer crm-token-1');
    // The retry re-delivered the same lead; it did not merge the submission into itself.
    expect(crm.requests[1]!.body).toMatchObject({ event: 'created', lead: { submissions: 1 } });
    expect(crm.stored.size).toBe(1);
  });

  it('merges a repeated lead (same email, or same phone in another format) instead of creating it twice', async () => {
    crm = await startCrmServer();
    worker = await startBuiltinWorker(testRedisUrl(), { leadSinkUrl: crm.url });
    const first = await runLead(worker, ann);
    const second = await runLead(worker, {
      name: 'Ann Example',
      email: 'ann@example.com',
      address: '1 Sun St, Sydney',
      submitted_at: '2026-11-03T08:00:00Z',
    });
    const third = await runLead(worker, { name: 'A. Example', phone: '+61 412 345 678', source: 'phone' });
    const other = await runLead(worker, { name: 'Bob', email: 'bob@example.com' });
    const leadId = (first.result as { lead_id: string }).lead_id;
    expect(second.result).toMatchObject({ outcome: 'merged', lead_id: leadId, submissions: 2 });
    expect(third.result).toMatchObject({ outcome: 'merged', lead_id: leadId, submissions: 3 });
    expect(other.result).toMatchObject({ outcome: 'created' });
    expect((other.result as { lead_id: string }).lead_id).not.toBe(leadId);
    expect(crm.requests.map((r) => r.body.event)).toEqual(['created', 'merged', 'merged', 'created']);
    expect(new Set(crm.requests.map((r) => r.idempotencyKey)).size).toBe(4);
    expect(crm.requests[2]!.body.lead).toMatchObject({
      lead_id: leadId,
      name: 'A. Example',
      address: '1 Sun St, Sydney',
      sources: ['website', 'api', 'phone'],
      submissions: 3,
    });
  });

  it('creates one lead when submissions of the same customer are processed at the same time', async () => {
    worker = await startBuiltinWorker(testRedisUrl(), { concurrency: 5 });
    const ids = await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) => {
        const { taskId } = await worker!.queue.enqueue({
          task_name: 'process_lead',
          kwargs: { name: `Ann ${i}`, email: 'ann@example.com' },
        });
        return taskId;
      }),
    );
    const results = await Promise.all(ids.map((id) => untilFinished(worker!, id)));
    const outcomes = results.map((r) => (r.result as { outcome: string }).outcome).sort();
    expect(outcomes).toEqual(['created', 'merged', 'merged', 'merged', 'merged']);
    expect(new Set(results.map((r) => (r.result as { lead_id: string }).lead_id)).size).toBe(1);
    expect(Math.max(...results.map((r) => (r.result as { submissions: number }).submissions))).toBe(5);
  });

  it('keeps an unreadable phone as phone_raw when there is an email, and fails permanently without one', async () => {
    worker = await startBuiltinWorker(testRedisUrl());
    const kept = await runLead(worker, { name: 'Cy', email: 'cy@example.com', phone: 'call me' });
    expect(kept.status).toBe('completed');
    const line = JSON.parse((await readFile(join(worker.dataDir, 'leads.jsonl'), 'utf8')).trim());
    expect(line.lead).toMatchObject({ phone_raw: 'call me' });
    expect(line.lead.phone).toBeUndefined();
    const failed = await runLead(worker, { name: 'Di', phone: '12' });
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.error).toMatch(/^phone:/);
  });
});
