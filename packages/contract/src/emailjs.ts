import { z } from 'zod';
import type { FieldIssue } from './bind-args.js';
import { formatPath } from './bind-args.js';
import { EXTRA_FIELD_LIMITS, leadExtraFields } from './tasks/fields.js';
import { processLead, ROOF_TYPES } from './tasks/process-lead.js';

/**
 * The website's contact form, as EmailJS would have received it. EmailJS
 * sends no webhooks: the website posts us the payload it gives
 * `emailjs.send` (JSON: `service_id`, `template_id`, `user_id`,
 * `template_params`) or `emailjs.sendForm` (the form's own fields, form-encoded
 * or multipart). This module is the pure part: field-name mapping,
 * normalisation and validation, shared by the webhook (which stores the
 * result) and the worker (which reads it back and checks it again).
 */

/** Envelope fields of an EmailJS call; never template parameters. */
export const EMAILJS_ENVELOPE_FIELDS = ['service_id', 'template_id', 'user_id', 'lib_version'] as const;

/**
 * Fields dropped on arrival, never stored or logged: `accessToken` is an
 * EmailJS private key; a reCAPTCHA response is single-use noise.
 */
export const EMAILJS_DROPPED_FIELDS = ['accessToken', 'g-recaptcha-response', 'h-captcha-response'] as const;

/** Honeypot fields: hidden from people, filled by bots. A filled one rejects the submission. */
export const EMAILJS_HONEYPOT_FIELDS = ['_gotcha', '_honey', 'honeypot', 'bot_field', 'bot-field'] as const;

/**
 * Template parameter names mapped onto lead fields, first match wins. These
 * are the names EmailJS's own templates and common contact forms use.
 */
export const EMAILJS_FIELD_ALIASES = {
  name: ['from_name', 'name', 'user_name', 'full_name', 'fullname', 'your_name', 'customer_name'],
  email: ['from_email', 'reply_to', 'email', 'user_email', 'email_address', 'your_email'],
  phone: ['phone', 'phone_number', 'user_phone', 'mobile', 'tel', 'telephone', 'contact_number'],
  address: ['address', 'street_address', 'user_address', 'property_address'],
  postcode: ['postcode', 'post_code', 'postal_code', 'zip', 'zipcode', 'zip_code'],
  monthly_bill: [
    'monthly_bill',
    'monthly_electricity_bill',
    'electricity_bill',
    'power_bill',
    'energy_bill',
    'average_bill',
    'bill',
  ],
  roof_type: ['roof_type', 'roof', 'roof_material'],
  homeowner: ['homeowner', 'home_owner', 'is_homeowner', 'own_home', 'owner'],
  message: ['message', 'comments', 'comment', 'enquiry', 'inquiry', 'notes', 'msg', 'details'],
} as const;

/** Where a submission's lead came from, for the lead's `source`. */
export const EMAILJS_LEAD_SOURCE = 'website';

/** Id of a stored submission: 22 base64url characters (128 random bits). */
export const emailjsSubmissionIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,100}$/, 'must be 8–100 characters of A–Z, a–z, 0–9, _ or -');

/** The lead part of a submission: what `process_lead` will receive (without source and time). */
export const emailjsLeadSchema = z.strictObject({
  name: z.string().min(1).max(200),
  email: z.string().max(254).optional(),
  phone: z.string().max(40).optional(),
  address: z.string().max(500).optional(),
  postcode: z.string().max(20).optional(),
  monthly_bill: z.number().min(0).max(100_000).optional(),
  roof_type: z.enum(ROOF_TYPES).optional(),
  homeowner: z.boolean().optional(),
  message: z.string().max(5_000).optional(),
});
export type EmailjsLead = z.output<typeof emailjsLeadSchema>;

/** A submission as the webhook stores it in Redis and `process_emailjs_submission` reads it. */
export const emailjsSubmissionSchema = z.strictObject({
  v: z.literal(1),
  id: emailjsSubmissionIdSchema,
  /** When the webhook accepted it (ISO-8601, UTC). */
  received_at: z.iso.datetime(),
  service_id: z.string().max(100).optional(),
  template_id: z.string().max(100).optional(),
  /** The website's EmailJS public key (not a secret). */
  user_id: z.string().max(100).optional(),
  /** The page's `Origin`, when a browser sent it. */
  origin: z.string().max(200).optional(),
  lead: emailjsLeadSchema,
  /** Fields the mapping did not recognise, kept verbatim. */
  extra: leadExtraFields,
});
export type EmailjsSubmission = z.output<typeof emailjsSubmissionSchema>;

/** What a posted payload normalises to, before it gets an id and a time. */
export type NormalisedEmailjsPayload = Omit<EmailjsSubmission, 'v' | 'id' | 'received_at' | 'origin'>;

/** The outcome of {@link normaliseEmailjsPayload}. */
export type NormaliseEmailjsResult =
  | { ok: true; value: NormalisedEmailjsPayload }
  | { ok: false; reason: 'invalid'; issues: FieldIssue[] }
  | { ok: false; reason: 'honeypot'; field: string };

/** A payload as it arrived, in any of the three encodings. */
export interface RawEmailjsPayload {
  service_id?: unknown;
  template_id?: unknown;
  user_id?: unknown;
  /** The template parameters (JSON) or the form's fields (form-encoded, multipart). */
  params: Readonly<Record<string, unknown>>;
  /** How issue paths name a parameter: `template_params.` for JSON, `` for forms. */
  paramPrefix: string;
}

const YES = new Set(['yes', 'y', 'true', '1', 'on', 'owner', 'homeowner', 'own']);
const NO = new Set(['no', 'n', 'false', '0', 'off', 'renter', 'rent', 'renting', 'tenant']);

/** Roof words people type, mapped onto the quoted roof types. */
const ROOF_WORDS: Record<string, (typeof ROOF_TYPES)[number]> = {
  tile: 'tile',
  tiles: 'tile',
  tiled: 'tile',
  terracotta: 'tile',
  concrete: 'tile',
  metal: 'metal',
  colorbond: 'metal',
  colourbond: 'metal',
  tin: 'metal',
  steel: 'metal',
  corrugated: 'metal',
  shingle: 'shingle',
  shingles: 'shingle',
  asphalt: 'shingle',
  flat: 'flat',
  membrane: 'flat',
  slate: 'slate',
};

/**
 * Maps template parameters onto a lead and validates it with the same rules
 * `process_lead` applies, so a submission the webhook accepts never fails
 * later for its content. Unknown fields are kept in `extra`; envelope and
 * dropped fields never are. Issues name the field as the caller sent it.
 */
export function normaliseEmailjsPayload(raw: RawEmailjsPayload): NormaliseEmailjsResult {
  const issues: FieldIssue[] = [];
  const where = (key: string) => `${raw.paramPrefix}${key}`;
  // A null-prototype copy: a "__proto__" field stays plain data.
  const params: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(raw.params)) {
    if ((EMAILJS_DROPPED_FIELDS as readonly string[]).includes(key)) continue;
    if ((EMAILJS_ENVELOPE_FIELDS as readonly string[]).includes(key)) continue;
    const text = asText(value);
    if (text === undefined) {
      issues.push({
        field: where(key),
        code: 'invalid_type',
        message: 'must be text, a number or a boolean',
      });
      continue;
    }
    params[key] = text;
  }

  for (const field of EMAILJS_HONEYPOT_FIELDS) {
    if (params[field]) return { ok: false, reason: 'honeypot', field: where(field) };
    delete params[field];
  }

  const envelope: Pick<NormalisedEmailjsPayload, 'service_id' | 'template_id' | 'user_id'> = {};
  for (const key of ['service_id', 'template_id', 'user_id'] as const) {
    const value = raw[key] ?? raw.params[key];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > 100) {
      issues.push({ field: key, code: 'invalid_type', message: 'must be text of at most 100 characters' });
      continue;
    }
    envelope[key] = value;
  }

  // Pick each lead field from its first present alias; the keys used are consumed.
  const used = new Map<keyof typeof EMAILJS_FIELD_ALIASES, string>();
  const pick = (field: keyof typeof EMAILJS_FIELD_ALIASES): string | undefined => {
    for (const alias of EMAILJS_FIELD_ALIASES[field]) {
      const value = params[alias];
      if (value !== undefined && value !== '') {
        used.set(field, alias);
        return value;
      }
    }
    return undefined;
  };
  const lead: Record<string, unknown> = {};
  let name = pick('name');
  if (name === undefined && (params.first_name || params.last_name)) {
    name = [params.first_name, params.last_name].filter(Boolean).join(' ');
    delete params.first_name;
    delete params.last_name;
  }
  if (name !== undefined) lead.name = name;
  for (const field of ['email', 'phone', 'address', 'postcode', 'message'] as const) {
    const value = pick(field);
    if (value !== undefined) lead[field] = field === 'email' ? value.toLowerCase() : value;
  }
  const bill = pick('monthly_bill');
  if (bill !== undefined) {
    const amount = parseAmount(bill);
    if (amount === undefined)
      issues.push({
        field: where(used.get('monthly_bill')!),
        code: 'invalid_number',
        message: 'must contain an amount, e.g. 250 or $250',
      });
    else lead.monthly_bill = amount;
  }
  const roof = pick('roof_type');
  if (roof !== undefined)
    lead.roof_type = ROOF_WORDS[roof.toLowerCase().split(/[\s/-]+/)[0] ?? ''] ?? 'other';
  const owner = pick('homeowner');
  if (owner !== undefined) {
    const word = owner.toLowerCase();
    if (YES.has(word)) lead.homeowner = true;
    else if (NO.has(word)) lead.homeowner = false;
    else
      issues.push({
        field: where(used.get('homeowner')!),
        code: 'invalid_value',
        message: 'must be yes or no',
      });
  }

  // Consume the used keys, and other aliases that merely repeat a used value (reply_to = from_email).
  for (const [field, key] of used) {
    const value = params[key];
    delete params[key];
    for (const alias of EMAILJS_FIELD_ALIASES[field]) if (params[alias] === value) delete params[alias];
  }

  const extra: Record<string, string> = {};
  const extraKeys = Object.keys(params);
  if (extraKeys.length > EXTRA_FIELD_LIMITS.count) {
    issues.push({
      field: raw.paramPrefix.replace(/\.$/, '') || 'body',
      code: 'too_big',
      message: `at most ${EXTRA_FIELD_LIMITS.count} unrecognised fields are kept; got ${extraKeys.length}`,
    });
  }
  for (const key of extraKeys.slice(0, EXTRA_FIELD_LIMITS.count)) {
    const value = params[key]!;
    if (key.length > EXTRA_FIELD_LIMITS.nameLength)
      issues.push({
        field: where(key.slice(0, 80)),
        code: 'too_big',
        message: `field names are at most ${EXTRA_FIELD_LIMITS.nameLength} characters`,
      });
    else if (value.length > EXTRA_FIELD_LIMITS.valueLength)
      issues.push({
        field: where(key),
        code: 'too_big',
        message: `at most ${EXTRA_FIELD_LIMITS.valueLength} characters`,
      });
    else if (value !== '') extra[key] = value;
  }

  // The same rules as process_lead, with issues named by the field the caller used.
  const checked = processLead.args.safeParse({ ...lead, source: EMAILJS_LEAD_SOURCE });
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = String(issue.path[0] ?? 'name') as keyof typeof EMAILJS_FIELD_ALIASES;
      const key = used.get(field) ?? EMAILJS_FIELD_ALIASES[field]?.[0] ?? formatPath(issue.path);
      const message =
        issue.code === 'invalid_type' && lead[field] === undefined
          ? `is required (send one of: ${(EMAILJS_FIELD_ALIASES[field] ?? [key]).join(', ')})`
          : issue.message;
      issues.push({ field: where(key), code: issue.code, message });
    }
  }
  if (issues.length > 0 || !checked.success) return { ok: false, reason: 'invalid', issues };

  const parsed = checked.data;
  const value: NormalisedEmailjsPayload = {
    ...envelope,
    lead: emailjsLeadSchema.parse({
      name: parsed.name,
      email: parsed.email,
      phone: parsed.phone,
      address: parsed.address,
      postcode: parsed.postcode,
      monthly_bill: parsed.monthly_bill,
      roof_type: parsed.roof_type,
      homeowner: parsed.homeowner,
      message: parsed.message,
    }),
    extra,
  };
  for (const key of Object.keys(value.lead) as (keyof EmailjsLead)[])
    if (value.lead[key] === undefined) delete value.lead[key];
  return { ok: true, value };
}

/** Form values are text; JSON ones may be numbers, booleans or lists of text. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null) return '';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ').trim();
  return undefined;
}

/** `$1,250.50` → 1250.5; `250-300` → 250 (the first amount); no digits → undefined. */
function parseAmount(text: string): number | undefined {
  const match = /\d[\d,]*(?:\.\d+)?/.exec(text);
  if (!match) return undefined;
  const amount = Number(match[0].replace(/,/g, ''));
  return Number.isFinite(amount) ? amount : undefined;
}

/**
 * The Redis key of a stored submission (it expires with the deployment's
 * retention). Submission and duplicate-guard keys share the `{emailjs}` hash
 * tag: the webhook writes both in one script, which Redis Cluster allows only
 * within one slot.
 */
export function emailjsSubmissionKey(prefix: string, id: string): string {
  return `${prefix}:{emailjs}:submission:${id}`;
}

/** The key remembering, for ten minutes, which submission a given content became. */
export function emailjsDedupKey(prefix: string, contentHash: string): string {
  return `${prefix}:{emailjs}:dedup:${contentHash}`;
}
