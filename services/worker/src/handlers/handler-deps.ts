import type { RedisClient } from '@solar-tasks/queue';

/** SMTP delivery settings (`SMTP_*`). */
export interface SmtpSettings {
  /** `smtp://host:port` (STARTTLS when offered) or `smtps://host:port` (TLS from the start). */
  url: string;
  user?: string | undefined;
  password?: string | undefined;
  /** Fail unless the server upgrades an `smtp://` connection with STARTTLS. @defaultValue false */
  requireTls?: boolean;
  /** Check the server's certificate. @defaultValue true */
  rejectUnauthorized?: boolean;
  /** Connect, greeting and socket timeout. @defaultValue 15000 */
  timeoutMs?: number;
}

/** The customer auto-reply to a website enquiry. */
export interface AutoReplySettings {
  /** Subject template (`{{name}}`, `{{first_name}}`, … are filled in). */
  subject: string;
  /** Body template; the built-in text when undefined. */
  text?: string | undefined;
}

/** What the built-in handlers need from the deployment. */
export interface HandlerDeps {
  /** Absolute data folder: outbox, leads file, reports. */
  dataDir: string;
  /** SMTP settings; unset means "write .eml files to DATA_DIR/outbox". */
  smtp?: SmtpSettings | undefined;
  /** From header of outgoing mail. */
  smtpFrom: string;
  /** Where new-lead notifications go. @defaultValue 'sales@solar-crm.local' */
  salesNotifyEmail?: string | undefined;
  /** Auto-reply to the customer; false to send none. @defaultValue the built-in text */
  autoReply?: AutoReplySettings | false;
  /** CRM endpoint receiving processed leads; unset means DATA_DIR/leads.jsonl. */
  leadSinkUrl?: string | undefined;
  /** Bearer token for the CRM endpoint. */
  leadSinkToken?: string | undefined;
  /** Longest wait for the CRM's answer. @defaultValue 10000 */
  leadSinkTimeoutMs?: number;
  /** Days within which a lead with the same email or phone is merged. @defaultValue 30 */
  leadDedupWindowDays?: number;
  /** Country for phone numbers written without +country code. @defaultValue 'AU' */
  leadPhoneCountry?: string;
  /** A worker-role Redis connection (lead de-duplication, stored submissions, sent marks). */
  redis: RedisClient;
  /** Deployment key prefix. */
  prefix: string;
}
