import { z } from 'zod';
import { defineTask } from '../define-task.js';
import { dataRelativePath, emailAddress, emailRecipients, shortText } from './fields.js';

/** A file under `DATA_DIR` attached to an e-mail. */
export const emailAttachment = z.strictObject({
  /** Path relative to `DATA_DIR`, e.g. `reports/task_summary_2026-11-01_2026-11-30.csv`. */
  path: dataRelativePath,
  /** File name shown to the recipient; defaults to the path's base name. */
  filename: shortText(255).min(1).optional(),
  /** MIME type; guessed from the extension when left out. */
  content_type: shortText(100).optional(),
});

/** `send_email`: one message by SMTP (`SMTP_URL`) or, with none configured, an `.eml` file in the outbox. */
export const sendEmail = defineTask({
  name: 'send_email',
  description: 'Send an email notification',
  args: z.strictObject({
    to: emailRecipients,
    subject: shortText(200).min(1),
    text: z.string().max(100_000),
    html: z.string().max(200_000).optional(),
    cc: emailRecipients.optional(),
    bcc: emailRecipients.optional(),
    reply_to: emailAddress.optional(),
    attachments: z.array(emailAttachment).max(10).optional(),
  }),
  defaults: { timeout: 30 },
  queue: 'email',
});
