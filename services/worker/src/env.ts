import { checkCommonSettings, commonSettingsShape, parseSettings, setting } from '@solar-tasks/runtime';
import { z } from 'zod';

/** Worker settings: the only place this service reads `process.env`. */
export const workerSettingsSchema = z
  .object({
    ...commonSettingsShape,
    /** Jobs one queue's worker runs at once (per queue served). */
    WORKER_CONCURRENCY: setting.int(1, 1000).default(10),
    /** Comma-separated queue names to serve; all known queues when unset. */
    WORKER_QUEUES: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((q) => q.trim())
          .filter(Boolean),
      )
      .optional(),
    /** Seconds a SIGTERM waits for running tasks before handing them back to the queue. */
    WORKER_SHUTDOWN_GRACE: setting.num(0, 3600).default(25),
    /** Milliseconds a job lock lasts without renewal; a dead worker's tasks return after about this long. */
    WORKER_LOCK_DURATION_MS: setting.int(1000, 600_000).default(30_000),
    /** Milliseconds between checks for stalled (lock-expired) jobs. */
    WORKER_STALLED_INTERVAL_MS: setting.int(500, 600_000).default(30_000),
    /** How often a task may be recovered from a dead worker before it is failed (poison-task guard). */
    WORKER_MAX_STALLED_COUNT: setting.int(0, 100).default(2),
    /** File rewritten every 5 s while the worker runs, for container health checks (`dist/healthcheck.js`). */
    WORKER_HEARTBEAT_FILE: z.string().optional(),
    /** JSON or YAML file of periodic tasks, upserted into Redis when a worker starts (see docs/cli.md); unset: schedules in Redis are left as they are. */
    SCHEDULES_FILE: z.string().min(1).optional(),
    /** `smtp://host:587` (STARTTLS when offered) or `smtps://host:465` (TLS from the start); unset: .eml files in DATA_DIR/outbox. */
    SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
    /** SMTP login, with SMTP_PASSWORD (or put both in SMTP_URL). */
    SMTP_USER: z.string().optional(),
    SMTP_PASSWORD: z.string().optional(),
    /** Refuse to send unless the server upgrades the connection with STARTTLS (for smtp:// URLs). */
    SMTP_REQUIRE_TLS: setting.boolean.default(false),
    /** Check the server's TLS certificate; turn off only for a test server with a self-signed one. */
    SMTP_TLS_REJECT_UNAUTHORIZED: setting.boolean.default(true),
    /** Seconds to wait for the SMTP server to connect or answer before the attempt fails (and is retried). */
    SMTP_TIMEOUT: setting.num(1, 300).default(15),
    SMTP_FROM: z.string().default('Solar CRM <no-reply@solar-crm.local>'),
    /** Where new-lead notifications from the website go. */
    SALES_NOTIFY_EMAIL: z.email({ error: 'must be an email address' }).default('sales@solar-crm.local'),
    /** Send the customer an auto-reply to a website enquiry. */
    AUTO_REPLY_ENABLED: setting.boolean.default(true),
    /** Subject of the auto-reply; `{{name}}` and other lead fields are filled in. */
    AUTO_REPLY_SUBJECT: z.string().min(1).max(200).default('Thanks for your enquiry, {{first_name}}'),
    /** A text file with the auto-reply's body (placeholders as in the subject); a built-in text when unset. */
    AUTO_REPLY_TEMPLATE: z.string().optional(),
    /** CRM endpoint receiving processed leads (HTTP POST of JSON); unset: DATA_DIR/leads.jsonl. */
    LEAD_SINK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** Sent to LEAD_SINK_URL as `Authorization: Bearer <token>`. */
    LEAD_SINK_TOKEN: z.string().optional(),
    /** Days within which a lead with the same email or phone is merged into the earlier one. */
    LEAD_DEDUP_WINDOW_DAYS: setting.num(0.000_01, 3650).default(30),
    /** ISO country whose numbering plan reads phone numbers written without a +country code. */
    LEAD_PHONE_COUNTRY: z
      .string()
      .regex(/^[A-Z]{2}$/, { error: 'must be a two-letter ISO country code, e.g. AU' })
      .default('AU'),
  })
  .superRefine(checkCommonSettings);
export type WorkerSettings = z.output<typeof workerSettingsSchema>;

/** Parses worker settings from `env` (by default the process environment). */
export function loadWorkerSettings(env: Record<string, string | undefined> = process.env): WorkerSettings {
  return parseSettings(workerSettingsSchema, env);
}
