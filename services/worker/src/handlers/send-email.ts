import { realpath, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import type { sendEmail } from '@solar-tasks/contract';
import { maskEmail } from '@solar-tasks/runtime';
import nodemailer from 'nodemailer';
import { PermanentTaskError } from '../errors/permanent-task-error.js';
import type { TaskHandler } from '../task-registry.js';
import { writeFileAtomic } from './data-files.js';
import type { HandlerDeps, SmtpSettings } from './handler-deps.js';

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** How long a "this task's message was accepted" mark is kept: longer than any retry schedule. */
const SENT_MARK_TTL_SECONDS = 7 * 86_400;

/** The fields of a nodemailer error this handler reads. */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  permanent?: boolean;
  rejected?: string[];
}

/**
 * `send_email`: SMTP through nodemailer when `SMTP_URL` is set; otherwise the
 * message is written as an RFC 822 `.eml` file under `DATA_DIR/outbox`.
 *
 * Failure handling: a connection error, a timeout or a 4xx reply throws, so
 * the task is retried with backoff; a 5xx rejection (of a recipient or of
 * the message) is a {@link PermanentTaskError}: the same message would be
 * refused again. An authentication failure is retried, because it is fixed
 * by configuration, not by the message. A missing attachment is permanent.
 *
 * Idempotency: the Message-ID is derived from the task id, and once the
 * server accepted the message the task is marked sent in Redis, so a retry
 * after a crash between "accepted" and "completed" does not send it twice.
 * (A crash between the server's accept and the mark still can: SMTP offers
 * nothing stronger; the stable Message-ID lets mail clients drop the copy.)
 * Addresses are masked in every log line.
 */
export function createSendEmailHandler(deps: HandlerDeps): TaskHandler<typeof sendEmail> {
  const transport = deps.smtp
    ? nodemailer.createTransport(smtpOptions(deps.smtp))
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const outbox = join(deps.dataDir, 'outbox');
  const sentKey = (taskId: string) => `${deps.prefix}:email:sent:${taskId}`;

  return async (args, ctx) => {
    const recipients = [...(list(args.to) ?? []), ...(list(args.cc) ?? []), ...(list(args.bcc) ?? [])];
    const masked = recipients.map(maskEmail);
    if (deps.smtp && ctx.attempt > 1) {
      const previous = await deps.redis.get(sentKey(ctx.taskId));
      if (previous) {
        ctx.logger.info({ to: masked }, 'email was already accepted by the server on an earlier attempt');
        return JSON.parse(previous) as unknown;
      }
    }
    const attachments = await Promise.all(
      (args.attachments ?? []).map(async (a, i) => ({
        path: await resolveAttachment(deps.dataDir, a.path, `attachments[${i}].path`),
        filename: a.filename ?? basename(a.path),
        contentType: a.content_type,
      })),
    );
    const message = {
      from: deps.smtpFrom,
      to: list(args.to),
      cc: list(args.cc),
      bcc: list(args.bcc),
      replyTo: args.reply_to,
      subject: args.subject,
      text: args.text,
      html: args.html,
      attachments,
      headers: { 'X-Solar-Task-Id': ctx.taskId },
      messageId: `<${ctx.taskId}@solar-tasks>`,
      signal: ctx.signal,
    };

    if (!deps.smtp) {
      const info = await transport.sendMail(message);
      // One file per task (a retry overwrites it), written whole then renamed into place.
      const file = join(outbox, `${ctx.taskId}.eml`);
      await writeFileAtomic(file, (info as unknown as { message: Buffer }).message);
      ctx.logger.info({ to: masked, file }, 'email written to outbox');
      return { delivered: 'outbox', file, message_id: info.messageId };
    }

    let info: { messageId: string; accepted?: unknown[]; rejected?: unknown[] };
    try {
      info = await transport.sendMail(message);
    } catch (err) {
      throw classify(err as SmtpError);
    }
    const rejected = (info.rejected ?? []).map((r) => maskEmail(String(r)));
    const result = {
      delivered: 'smtp',
      message_id: info.messageId,
      accepted: info.accepted?.length ?? 0,
      rejected,
    };
    await deps.redis.set(sentKey(ctx.taskId), JSON.stringify(result), 'EX', SENT_MARK_TTL_SECONDS);
    if (rejected.length > 0)
      ctx.logger.warn({ to: masked, rejected }, 'email sent; the server refused some recipients');
    else ctx.logger.info({ to: masked, message_id: info.messageId }, 'email sent');
    return result;
  };
}

/** nodemailer SMTP options from our settings. */
function smtpOptions(smtp: SmtpSettings) {
  const timeout = smtp.timeoutMs ?? 15_000;
  return {
    url: smtp.url,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    requireTLS: smtp.requireTls ?? false,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized ?? true },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    // nodemailer's own logger stays off: it would print addresses and message bodies.
    logger: false,
    debug: false,
  };
}

/** A permanent SMTP refusal fails the task at once; everything else is retried by policy. */
function classify(err: SmtpError): Error {
  const permanent = err.permanent === true && err.code !== 'EAUTH';
  // The server's reply names the refused address: mask it before it reaches a task's error.
  const reply = (err.message ?? 'SMTP error').replace(
    /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
    (addr) => maskEmail(addr),
  );
  const what = err.responseCode ? `SMTP ${err.responseCode}` : (err.code ?? 'SMTP error');
  const message = `${what}: ${reply}`.slice(0, 500);
  return permanent ? new PermanentTaskError(message) : new Error(message);
}

/** Resolves an attachment path under DATA_DIR, refusing symlinks that lead outside it and missing files. */
async function resolveAttachment(dataDir: string, relative: string, field: string): Promise<string> {
  let root: string;
  let real: string;
  try {
    root = await realpath(dataDir);
    real = await realpath(join(dataDir, relative));
    if (!(await stat(real)).isFile()) throw new Error('not a file');
  } catch {
    throw new PermanentTaskError(`${field}: no file "${relative}" under DATA_DIR`);
  }
  if (!real.startsWith(root + sep))
    throw new PermanentTaskError(`${field}: "${relative}" leads outside DATA_DIR`);
  return real;
}
