import { randomUUID } from 'node:crypto';
import type { processLead } from '@solar-tasks/contract';
import { maskEmail, maskPhone } from '@solar-tasks/runtime';
import { LeadDedupStore } from '../leads/lead-dedup-store.js';
import {
  type AppliedSubmission,
  type LeadRecord,
  mergeLeadRecord,
  newLeadRecord,
  normaliseLead,
  publicLead,
} from '../leads/lead-record.js';
import { FileLeadSink, HttpLeadSink, type LeadEvent, type LeadSink } from '../leads/lead-sink.js';
import type { TaskHandler } from '../task-registry.js';
import type { HandlerDeps } from './handler-deps.js';

/** Merge attempts before giving up on a lead that other tasks keep changing (then the task retries). */
const MAX_MERGE_ATTEMPTS = 10;

/**
 * `process_lead`: normalise, de-duplicate, score and deliver one solar lead.
 *
 * 1. Normalise: trimmed text, lower-case email, phone in E.164
 *    (libphonenumber-js, `LEAD_PHONE_COUNTRY` for national numbers).
 * 2. De-duplicate: a lead with the same email or phone within
 *    `LEAD_DEDUP_WINDOW_DAYS` is merged into the earlier one (newer non-empty
 *    values win), not created twice. Claim and merge are atomic in Redis.
 * 3. Score, 0–100 (see `scoreLead` and docs/leads.md): monthly bill up to 40,
 *    homeowner 25, roof type up to 15, completeness up to 20; grade hot ≥ 70,
 *    warm ≥ 40, cold below.
 * 4. Deliver to `LEAD_SINK_URL` (POST with `Idempotency-Key`; non-2xx retries)
 *    or append to `DATA_DIR/leads.jsonl`.
 *
 * Retries are safe: the lead remembers the tasks applied to it, so a retry
 * after the merge (say, the CRM answered 500) re-delivers the same event
 * under the same key instead of merging the submission twice.
 *
 * Result: `{ outcome: 'created' | 'merged', lead_id, score, grade, sink, delivery_id }`.
 */
export function createProcessLeadHandler(deps: HandlerDeps): TaskHandler<typeof processLead> {
  const store = new LeadDedupStore(deps.redis, deps.prefix, deps.leadDedupWindowDays ?? 30);
  const sink: LeadSink = deps.leadSinkUrl
    ? new HttpLeadSink(deps.leadSinkUrl, deps.leadSinkToken, deps.leadSinkTimeoutMs)
    : new FileLeadSink(deps.dataDir, store);
  const phoneCountry = deps.leadPhoneCountry ?? 'AU';

  return async (args, ctx) => {
    const lead = normaliseLead(args, { phoneCountry }, new Date());
    const claimed = await store.claim(lead.email, lead.phone, newLeadRecord(randomUUID(), lead, ctx.taskId));
    let record = claimed.record;
    let applied = record.applied.find((a) => a.task_id === ctx.taskId);
    for (let i = 0; !applied; i++) {
      if (i === MAX_MERGE_ATTEMPTS) throw new Error(`lead ${record.lead_id} kept changing while merging`);
      const merged = mergeLeadRecord(record, lead, ctx.taskId);
      const outcome = await store.replace(merged, record.version);
      if (outcome === 'ok') {
        record = merged;
        applied = merged.applied.at(-1)!;
      } else {
        record = outcome;
        applied = record.applied.find((a) => a.task_id === ctx.taskId);
      }
    }

    const event = toEvent(record, applied, ctx.taskId);
    await sink.deliver(event, { signal: ctx.signal, logger: ctx.logger });
    ctx.logger.info(
      {
        lead_id: record.lead_id,
        outcome: applied.event,
        score: record.score,
        email: lead.email ? maskEmail(lead.email) : undefined,
        phone: lead.phone ? maskPhone(lead.phone) : undefined,
        sink: sink.describe,
      },
      applied.event === 'created' ? 'lead created' : 'lead merged into an earlier one',
    );
    return {
      outcome: applied.event,
      lead_id: record.lead_id,
      score: record.score,
      grade: record.grade,
      submissions: record.submissions,
      sink: sink.describe,
      delivery_id: event.delivery_id,
    };
  };
}

function toEvent(record: LeadRecord, applied: AppliedSubmission, taskId: string): LeadEvent {
  return {
    event: applied.event,
    delivery_id: `lead-${taskId}`,
    submitted_at: applied.submitted_at,
    source: applied.source,
    lead: publicLead(record),
  };
}
