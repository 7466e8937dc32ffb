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
    SMTP_URL: z.string().optional(),
    SMTP_FROM: z.string().default('Solar CRM <no-reply@solar-crm.local>'),
    SALES_NOTIFY_EMAIL: z.string().optional(),
    LEAD_SINK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  })
  .superRefine(checkCommonSettings);
export type WorkerSettings = z.output<typeof workerSettingsSchema>;

/** Parses worker settings from `env` (by default the process environment). */
export function loadWorkerSettings(env: Record<string, string | undefined> = process.env): WorkerSettings {
  return parseSettings(workerSettingsSchema, env);
}
