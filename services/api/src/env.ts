import { checkCommonSettings, commonSettingsShape, parseSettings, setting } from '@solar-tasks/runtime';
import { z } from 'zod';

/** API settings: the only place this service reads `process.env`. */
export const apiSettingsSchema = z
  .object({
    ...commonSettingsShape,
    PORT: setting.int(0, 65_535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    /** `name:secret` entries, comma-separated; a secret may be `sha256:<64 hex>`. */
    API_KEYS: z.string().optional(),
    /** `name=scope+scope;name2=scope`; a key not listed has every scope. */
    API_KEY_SCOPES: z.string().optional(),
    ADMIN_USERNAME: z.string().optional(),
    ADMIN_PASSWORD: z.string().optional(),
    /** Bearer token that may read `/metrics` (for Prometheus), besides the admin login and admin-scope keys. */
    METRICS_TOKEN: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    EMAILJS_WEBHOOK_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    /** Comma-separated origins allowed to post the EmailJS webhook from a browser. */
    EMAILJS_ALLOWED_ORIGINS: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim().replace(/\/$/, ''))
          .filter(Boolean),
      )
      .refine((list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)), {
        error: 'must be comma-separated origins such as https://www.example.com',
      })
      .default([]),
    /** Webhook submissions one client IP may post per EMAILJS_RATE_LIMIT_WINDOW. */
    EMAILJS_RATE_LIMIT_MAX: setting.int(1, 100_000).default(10),
    /** Seconds of the webhook's per-IP rate-limit window. */
    EMAILJS_RATE_LIMIT_WINDOW: setting.num(1, 86_400).default(60),
    /** Largest request body, bytes. */
    BODY_LIMIT: setting.int(1024, 64 * 1024 * 1024).default(256 * 1024),
    /** Largest body of `POST /api/tasks/enqueue-bulk/` (up to 1,000 tasks), bytes. */
    BULK_BODY_LIMIT: setting.int(1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
    /** Largest serialized arguments of one task, bytes. */
    TASK_MAX_ARGS_BYTES: setting.int(256, 16 * 1024 * 1024).default(64 * 1024),
    /** Requests one API key may make per window (across replicas: counted in Redis). */
    RATE_LIMIT_KEY_MAX: setting.int(1, 10_000_000).default(6000),
    /** Requests per window from one client IP without a valid key (wrong keys, anonymous calls). */
    RATE_LIMIT_IP_MAX: setting.int(1, 10_000_000).default(300),
    /** Rate-limit window, seconds. */
    RATE_LIMIT_WINDOW: setting.int(1, 86_400).default(60),
    /** Trust X-Forwarded-For from these proxies (Fastify `trustProxy`: true, a hop count, or IPs/CIDRs). */
    TRUST_PROXY: z.string().optional(),
  })
  .superRefine(checkCommonSettings);
export type ApiSettings = z.output<typeof apiSettingsSchema>;

/** Parses API settings from `env` (by default the process environment). */
export function loadApiSettings(env: Record<string, string | undefined> = process.env): ApiSettings {
  return parseSettings(apiSettingsSchema, env);
}
