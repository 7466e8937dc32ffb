import { createHash } from 'node:crypto';
import type { RedisClient } from '@solar-tasks/queue';
import type { LeadRecord } from './lead-record.js';

/**
 * Finds or claims a lead by email and phone, atomically. The index keys map
 * a hashed email or phone to a lead id; the record key holds the lead. All
 * three expire together, `window` after the lead was last touched. Email is
 * looked up first: a submission whose email matches lead A and whose phone
 * matches lead B is merged into A (and the phone then points to A).
 * An index whose record has expired starts a fresh lead.
 */
const CLAIM = `
local window = ARGV[1]
local recordPrefix = ARGV[2]
local hasEmail = ARGV[5] == '1'
local hasPhone = ARGV[6] == '1'
local id = false
if hasEmail then id = redis.call('GET', KEYS[1]) end
if (not id) and hasPhone then id = redis.call('GET', KEYS[2]) end
if id then
  local rec = redis.call('GET', recordPrefix .. id)
  if rec then
    if hasEmail then redis.call('SET', KEYS[1], id, 'PX', window) end
    if hasPhone then redis.call('SET', KEYS[2], id, 'PX', window) end
    redis.call('PEXPIRE', recordPrefix .. id, window)
    return {'existing', id, rec}
  end
end
if hasEmail then redis.call('SET', KEYS[1], ARGV[3], 'PX', window) end
if hasPhone then redis.call('SET', KEYS[2], ARGV[3], 'PX', window) end
redis.call('SET', recordPrefix .. ARGV[3], ARGV[4], 'PX', window)
return {'created', ARGV[3], ARGV[4]}
`;

/** Replaces a record only if nobody else changed it since it was read (compare-and-set on `version`). */
const REPLACE = `
local current = redis.call('GET', KEYS[1])
if current and tostring(cjson.decode(current).version) ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 'OK'
`;

type ClaimReply = [kind: 'existing' | 'created', leadId: string, record: string];

interface LeadScripts {
  solarLeadClaim(
    emailKey: string,
    phoneKey: string,
    windowMs: number,
    recordPrefix: string,
    newId: string,
    newRecord: string,
    hasEmail: string,
    hasPhone: string,
  ): Promise<ClaimReply>;
  solarLeadReplace(recordKey: string, version: number, record: string, windowMs: number): Promise<string>;
}

/** The outcome of {@link LeadDedupStore.claim}. */
export type ClaimResult = { kind: 'created'; record: LeadRecord } | { kind: 'existing'; record: LeadRecord };

/** Lead de-duplication state in Redis, under `<prefix>:{leads}:`. */
export class LeadDedupStore {
  readonly #redis: RedisClient & LeadScripts;
  readonly #base: string;
  readonly #windowMs: number;

  constructor(redis: RedisClient, prefix: string, windowDays: number) {
    if (!(windowDays > 0)) throw new RangeError(`windowDays must be > 0, got ${windowDays}`);
    // One hash tag for every lead key: the scripts touch keys they compute, which Cluster allows within a slot.
    this.#base = `${prefix}:{leads}`;
    this.#windowMs = Math.round(windowDays * 86_400_000);
    if (!('solarLeadClaim' in redis)) {
      redis.defineCommand('solarLeadClaim', { numberOfKeys: 2, lua: CLAIM });
      redis.defineCommand('solarLeadReplace', { numberOfKeys: 1, lua: REPLACE });
    }
    this.#redis = redis as RedisClient & LeadScripts;
  }

  /**
   * Finds the lead this email or phone belongs to, or creates `fresh` as a new
   * lead, in one atomic step (two submissions of one customer at once still
   * make one lead). Touching a lead restarts its window.
   */
  async claim(email: string | undefined, phone: string | undefined, fresh: LeadRecord): Promise<ClaimResult> {
    const none = `${this.#base}:none`;
    const [kind, , json] = await this.#redis.solarLeadClaim(
      email ? this.#indexKey('email', email) : none,
      phone ? this.#indexKey('phone', phone) : none,
      this.#windowMs,
      `${this.#base}:lead:`,
      fresh.lead_id,
      JSON.stringify(fresh),
      email ? '1' : '0',
      phone ? '1' : '0',
    );
    return { kind, record: JSON.parse(json) as LeadRecord };
  }

  /**
   * Stores `updated` if the stored record still has `expectedVersion`;
   * otherwise returns the record someone else stored meanwhile.
   */
  async replace(updated: LeadRecord, expectedVersion: number): Promise<LeadRecord | 'ok'> {
    const reply = await this.#redis.solarLeadReplace(
      `${this.#base}:lead:${updated.lead_id}`,
      expectedVersion,
      JSON.stringify(updated),
      this.#windowMs,
    );
    return reply === 'OK' ? 'ok' : (JSON.parse(reply) as LeadRecord);
  }

  /** Marks a delivery done; false when it already was. */
  async markDelivered(deliveryId: string): Promise<void> {
    await this.#redis.set(`${this.#base}:delivered:${deliveryId}`, '1', 'EX', 7 * 86_400);
  }

  /** True when this delivery was made before (a retry after the sink write succeeded). */
  async wasDelivered(deliveryId: string): Promise<boolean> {
    return (await this.#redis.exists(`${this.#base}:delivered:${deliveryId}`)) === 1;
  }

  /** Email and phone are hashed: key names show up in monitoring and must not carry personal data. */
  #indexKey(kind: 'email' | 'phone', value: string): string {
    return `${this.#base}:${kind}:${createHash('sha256').update(value).digest('base64url')}`;
  }
}
