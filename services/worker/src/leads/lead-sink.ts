import { appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '@solar-tasks/runtime';
import { ensureDir } from '../handlers/data-files.js';
import type { LeadDedupStore } from './lead-dedup-store.js';
import type { publicLead } from './lead-record.js';

/** One delivery to the lead sink: a lead was created, or a submission was merged into one. */
export interface LeadEvent {
  event: 'created' | 'merged';
  /** Stable per task: the `Idempotency-Key` of an HTTP delivery, and the file sink's duplicate guard. */
  delivery_id: string;
  /** When this submission was made, and where from. */
  submitted_at: string;
  source: string;
  lead: ReturnType<typeof publicLead>;
}

/** Where processed leads go. */
export interface LeadSink {
  /** How results and logs name it: `file:<path>` or the CRM URL without credentials or query. */
  readonly describe: string;
  deliver(event: LeadEvent, options: { signal: AbortSignal; logger: Logger }): Promise<void>;
}

/**
 * Appends each event as one JSON line to `DATA_DIR/leads.jsonl`. A retried
 * delivery is skipped once the line is written (a mark in Redis); a crash
 * between the write and the mark can repeat a line, which readers drop by
 * `delivery_id`.
 */
export class FileLeadSink implements LeadSink {
  readonly file: string;
  readonly describe: string;

  constructor(
    dataDir: string,
    readonly store: LeadDedupStore,
  ) {
    this.file = join(dataDir, 'leads.jsonl');
    this.describe = `file:${this.file}`;
  }

  async deliver(event: LeadEvent): Promise<void> {
    if (await this.store.wasDelivered(event.delivery_id)) return;
    await ensureDir(dirname(this.file));
    // One write(2) per line with O_APPEND: lines from concurrent tasks never interleave.
    await appendFile(this.file, `${JSON.stringify(event)}\n`);
    await this.store.markDelivered(event.delivery_id);
  }
}

/**
 * POSTs each event as JSON to the CRM with an `Idempotency-Key` header (the
 * event's `delivery_id`), so a delivery retried after a timeout or a 5xx is
 * recognised by the CRM rather than stored twice. Any non-2xx answer fails
 * the attempt, and the task is retried with backoff.
 */
export class HttpLeadSink implements LeadSink {
  readonly describe: string;

  constructor(
    readonly url: string,
    readonly token: string | undefined,
    readonly timeoutMs = 10_000,
  ) {
    const u = new URL(url);
    this.describe = `${u.origin}${u.pathname}`;
  }

  async deliver(event: LeadEvent, { signal }: { signal: AbortSignal }): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': event.delivery_id,
          'user-agent': 'solar-tasks',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify(event),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
        redirect: 'error',
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new Error(`lead sink ${this.describe} unreachable: ${cause}`);
    }
    // Drain the body so the connection is reused, but keep only a little of it for the error.
    const text = (await response.text().catch(() => '')).slice(0, 200);
    if (!response.ok)
      throw new Error(`lead sink ${this.describe} answered ${response.status}${text ? `: ${text}` : ''}`);
  }
}
