import { z } from 'zod';
import { defineTask } from '../define-task.js';
import { emailRecipients, isoDate } from './fields.js';

/** Report kinds `generate_report` knows. */
export const REPORT_KINDS = ['task_summary', 'leads'] as const;

/** `generate_report`: a CSV or JSON report under `DATA_DIR/reports/`, optionally e-mailed. */
export const generateReport = defineTask({
  name: 'generate_report',
  description: 'Generate a report (task_summary or leads) as CSV or JSON under DATA_DIR/reports',
  args: z
    .strictObject({
      kind: z.enum(REPORT_KINDS),
      /** First day included (UTC). */
      from: isoDate,
      /** Last day included (UTC). */
      to: isoDate,
      format: z.enum(['csv', 'json']).default('csv'),
      /** When set, the report is mailed there by a `send_email` task. */
      email_to: emailRecipients.optional(),
    })
    .refine((r) => r.from <= r.to, { message: '"from" must not be after "to"', path: ['to'] }),
  defaults: { timeout: 600, maxRetries: 2 },
  queue: 'reports',
});
