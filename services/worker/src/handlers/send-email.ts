import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { sendEmail } from '@solar-tasks/contract';
import { maskEmail } from '@solar-tasks/runtime';
import nodemailer from 'nodemailer';
import type { TaskHandler } from '../task-registry.js';
import type { HandlerDeps } from './handler-deps.js';

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/**
 * `send_email`: SMTP through nodemailer when `SMTP_URL` is set; otherwise the
 * message is written as an RFC 822 `.eml` file under `DATA_DIR/outbox`.
 */
export function createSendEmailHandler(deps: HandlerDeps): TaskHandler<typeof sendEmail> {
  const transport = deps.smtpUrl
    ? nodemailer.createTransport(deps.smtpUrl)
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const outbox = join(deps.dataDir, 'outbox');

  return async (args, ctx) => {
    const message = {
      from: deps.smtpFrom,
      to: list(args.to),
      cc: list(args.cc),
      bcc: list(args.bcc),
      replyTo: args.reply_to,
      subject: args.subject,
      text: args.text,
      html: args.html,
      attachments: args.attachments?.map((a) => ({
        path: join(deps.dataDir, a.path),
        filename: a.filename,
        contentType: a.content_type,
      })),
      headers: { 'X-Solar-Task-Id': ctx.taskId },
      messageId: `<${ctx.taskId}@solar-tasks>`,
    };
    const info = await transport.sendMail(message);
    const recipients = (list(args.to) ?? []).map(maskEmail);
    if (!deps.smtpUrl) {
      await mkdir(outbox, { recursive: true });
      const file = join(outbox, `${ctx.taskId}.eml`);
      await writeFile(file, (info as unknown as { message: Buffer }).message);
      ctx.logger.info({ to: recipients, file }, 'email written to outbox');
      return { delivered: 'outbox', file, message_id: info.messageId };
    }
    ctx.logger.info({ to: recipients, message_id: info.messageId }, 'email sent');
    return { delivered: 'smtp', message_id: info.messageId, accepted: info.accepted?.length ?? 0 };
  };
}
