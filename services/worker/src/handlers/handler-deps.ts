import type { RedisClient } from '@solar-tasks/queue';

/** What the built-in handlers need from the deployment. */
export interface HandlerDeps {
  /** Absolute data folder: outbox, leads file, reports. */
  dataDir: string;
  /** SMTP URL; unset means "write .eml files to DATA_DIR/outbox". */
  smtpUrl?: string | undefined;
  /** From header of outgoing mail. */
  smtpFrom: string;
  /** Where new-lead notifications go. */
  salesNotifyEmail?: string | undefined;
  /** CRM endpoint receiving processed leads; unset means DATA_DIR/leads.jsonl. */
  leadSinkUrl?: string | undefined;
  /** A worker-role Redis connection (lead de-duplication, stored submissions). */
  redis: RedisClient;
  /** Deployment key prefix. */
  prefix: string;
}
