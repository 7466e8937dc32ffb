import type { ROOF_TYPES } from '@solar-tasks/contract';
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import { PermanentTaskError } from '../errors/permanent-task-error.js';
import { type LeadScore, scoreLead } from './lead-score.js';

/** A lead after normalisation: one submission's worth. */
export interface NormalisedLead {
  name: string;
  /** Lower-case. */
  email?: string | undefined;
  /** E.164, e.g. `+61412345678`. */
  phone?: string | undefined;
  /** The phone as typed, when it could not be read as a number (kept for a person to call). */
  phone_raw?: string | undefined;
  address?: string | undefined;
  postcode?: string | undefined;
  monthly_bill?: number | undefined;
  roof_type?: (typeof ROOF_TYPES)[number] | undefined;
  homeowner?: boolean | undefined;
  message?: string | undefined;
  source: string;
  submitted_at: string;
  submission_id?: string | undefined;
  extra?: Record<string, string> | undefined;
}

/** One submission applied to a lead: what a retry of the same task replays. */
export interface AppliedSubmission {
  task_id: string;
  event: 'created' | 'merged';
  submitted_at: string;
  source: string;
}

/** A lead as it is kept (for de-duplication) and delivered to the sink. */
export interface LeadRecord extends Omit<NormalisedLead, 'submitted_at' | 'source' | 'submission_id'> {
  lead_id: string;
  score: number;
  grade: LeadScore['grade'];
  score_breakdown: LeadScore['breakdown'];
  /** Every source that sent this lead, first first. */
  sources: string[];
  submission_ids?: string[];
  first_submitted_at: string;
  last_submitted_at: string;
  /** How many submissions were merged into this lead. */
  submissions: number;
  /** Optimistic-concurrency version, bumped by every merge. */
  version: number;
  /** The last submissions applied (at most {@link MAX_APPLIED}), so a retried task is recognised. */
  applied: AppliedSubmission[];
}

const MAX_APPLIED = 20;
const MAX_SUBMISSION_IDS = 20;
const MAX_EXTRA = 50;

/** The lead fields a later submission may update. */
const UPDATABLE = [
  'name',
  'email',
  'phone',
  'phone_raw',
  'address',
  'postcode',
  'monthly_bill',
  'roof_type',
  'homeowner',
  'message',
] as const;

/** Options of {@link normaliseLead}. */
export interface NormaliseOptions {
  /** Country for numbers written without +country code. */
  phoneCountry: string;
}

/** Input of {@link normaliseLead}: `process_lead`'s arguments. */
export type LeadInput = Omit<NormalisedLead, 'phone_raw' | 'submitted_at'> & {
  submitted_at?: string | undefined;
};

/**
 * Normalises one submission: trims text (the contract already did, and
 * lower-cased the email), reads the phone as E.164 in `phoneCountry`'s
 * numbering plan, drops empty strings. A phone that is not a number is kept
 * as `phone_raw` when there is an email to reach the customer; without one
 * the lead is unusable and the task fails permanently naming the field.
 */
export function normaliseLead(input: LeadInput, options: NormaliseOptions, now: Date): NormalisedLead {
  const country = isSupportedCountry(options.phoneCountry)
    ? (options.phoneCountry as CountryCode)
    : undefined;
  const lead: NormalisedLead = {
    ...dropEmpty(input),
    name: input.name.trim(),
    source: input.source || 'api',
    submitted_at: input.submitted_at ? new Date(input.submitted_at).toISOString() : now.toISOString(),
  };
  if (input.phone) {
    const parsed = parsePhoneNumberFromString(input.phone, country);
    if (parsed?.isValid()) lead.phone = parsed.number;
    else {
      if (!lead.email) throw new PermanentTaskError(`phone: "${input.phone}" is not a valid phone number`);
      delete lead.phone;
      lead.phone_raw = input.phone;
    }
  }
  return lead;
}

/** A new lead from its first submission. */
export function newLeadRecord(leadId: string, lead: NormalisedLead, taskId: string): LeadRecord {
  const { submitted_at, source, submission_id, ...fields } = lead;
  return withScore({
    ...fields,
    lead_id: leadId,
    score: 0,
    grade: 'cold',
    score_breakdown: { bill: 0, homeowner: 0, roof: 0, completeness: 0 },
    sources: [source],
    ...(submission_id ? { submission_ids: [submission_id] } : {}),
    first_submitted_at: submitted_at,
    last_submitted_at: submitted_at,
    submissions: 1,
    version: 1,
    applied: [{ task_id: taskId, event: 'created', submitted_at, source }],
  });
}

/**
 * Merges a later submission into a lead: a newer non-empty value replaces an
 * older one (people correct a typo or add a phone number), an empty one
 * never erases; extra fields merge by name; the score is computed again on
 * the merged lead. "Newer" is by submission time, so an old submission
 * processed late does not overwrite fresher data.
 */
export function mergeLeadRecord(record: LeadRecord, lead: NormalisedLead, taskId: string): LeadRecord {
  const newer = lead.submitted_at >= record.last_submitted_at;
  const merged: LeadRecord = { ...record, applied: [...record.applied], sources: [...record.sources] };
  for (const key of UPDATABLE) {
    const value = lead[key];
    if (value === undefined) continue;
    if (newer || merged[key] === undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  // A phone that parsed supersedes one kept raw, and the other way round only when there was none.
  if (merged.phone && lead.phone) delete merged.phone_raw;
  if (lead.extra) {
    const extra = newer ? { ...merged.extra, ...lead.extra } : { ...lead.extra, ...merged.extra };
    merged.extra = Object.fromEntries(Object.entries(extra).slice(0, MAX_EXTRA));
  }
  if (!merged.sources.includes(lead.source)) merged.sources.push(lead.source);
  if (lead.submission_id) {
    merged.submission_ids = [...(merged.submission_ids ?? []), lead.submission_id].slice(-MAX_SUBMISSION_IDS);
  }
  if (lead.submitted_at < merged.first_submitted_at) merged.first_submitted_at = lead.submitted_at;
  if (newer) merged.last_submitted_at = lead.submitted_at;
  merged.submissions += 1;
  merged.version += 1;
  merged.applied = [
    ...merged.applied,
    { task_id: taskId, event: 'merged' as const, submitted_at: lead.submitted_at, source: lead.source },
  ].slice(-MAX_APPLIED);
  return withScore(merged);
}

/** The record as the sink sees it: without the bookkeeping of retries and versions. */
export function publicLead(record: LeadRecord): Omit<LeadRecord, 'applied' | 'version'> {
  const { applied: _a, version: _v, ...rest } = record;
  return rest;
}

function withScore(record: LeadRecord): LeadRecord {
  const s = scoreLead(record);
  return { ...record, score: s.score, grade: s.grade, score_breakdown: s.breakdown };
}

function dropEmpty<T extends object>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined && v !== '' && v !== null),
  ) as T;
}
