import {
  EMAILJS_LEAD_SOURCE,
  type EmailjsSubmission,
  emailjsSubmissionKey,
  emailjsSubmissionSchema,
  type processEmailjsSubmission,
} from '@solar-tasks/contract';
import { PermanentTaskError } from '../errors/permanent-task-error.js';
import { scoreLead } from '../leads/lead-score.js';
import type { TaskHandler } from '../task-registry.js';
import type { AutoReplySettings, HandlerDeps } from './handler-deps.js';

/** The auto-reply's body when `AUTO_REPLY_TEMPLATE` is not set. */
export const DEFAULT_AUTO_REPLY = `Hi {{first_name}},

Thank you for getting in touch about solar for your home. We have your enquiry,
and one of our energy advisers will contact you within one business day.

If anything changes in the meantime, just reply to this email.

The Solar team
`;

/**
 * `process_emailjs_submission`: reads a submission the webhook stored and
 * queues its work as child tasks: a `process_lead`, a notification to
 * `SALES_NOTIFY_EMAIL` (reply-to the customer), and, when the customer gave
 * an email and auto-replies are on, a `send_email` to the customer from the
 * auto-reply template.
 *
 * Every child carries an idempotency key derived from the submission id
 * (`emailjs:<id>:lead`, `…:sales`, `…:auto-reply`) and arguments computed
 * only from the stored submission, so running this task again (a retry, or a
 * manual re-run) finds the same children and never sends an email twice or
 * creates a second lead.
 */
export function createProcessEmailjsSubmissionHandler(
  deps: HandlerDeps,
): TaskHandler<typeof processEmailjsSubmission> {
  const salesTo = deps.salesNotifyEmail ?? 'sales@solar-crm.local';
  const autoReply: AutoReplySettings | false =
    deps.autoReply === undefined ? { subject: 'Thanks for your enquiry, {{first_name}}' } : deps.autoReply;

  return async ({ submission_id: id }, ctx) => {
    const stored = await deps.redis.get(emailjsSubmissionKey(deps.prefix, id));
    if (stored === null)
      throw new PermanentTaskError(`submission ${id} not found: it expired or was never stored`);
    const parsed = emailjsSubmissionSchema.safeParse(safeJson(stored));
    if (!parsed.success)
      throw new PermanentTaskError(
        `submission ${id} is not a valid stored submission: ${parsed.error.message}`,
      );
    const submission = parsed.data;
    const { lead } = submission;

    const leadTask = await ctx.queue.enqueue({
      task_name: 'process_lead',
      kwargs: {
        ...lead,
        source: EMAILJS_LEAD_SOURCE,
        submitted_at: submission.received_at,
        submission_id: id,
        ...(Object.keys(submission.extra).length > 0 ? { extra: submission.extra } : {}),
      },
      idempotency_key: `emailjs:${id}:lead`,
    });

    const sales = await ctx.queue.enqueue({
      task_name: 'send_email',
      kwargs: salesNotification(submission, salesTo, leadTask.taskId),
      idempotency_key: `emailjs:${id}:sales`,
    });

    let reply: { taskId: string; created: boolean } | undefined;
    if (autoReply && lead.email) {
      const fields = templateFields(submission);
      reply = await ctx.queue.enqueue({
        task_name: 'send_email',
        kwargs: {
          to: lead.email,
          subject: fill(autoReply.subject, fields)
            .replace(/[\r\n]+/g, ' ')
            .slice(0, 200),
          text: fill(autoReply.text ?? DEFAULT_AUTO_REPLY, fields),
        },
        idempotency_key: `emailjs:${id}:auto-reply`,
      });
    }

    const queued = [leadTask, sales, reply].filter((t) => t?.created).length;
    ctx.logger.info(
      { submission_id: id, lead_task_id: leadTask.taskId, queued },
      queued > 0 ? 'submission queued as tasks' : 'submission tasks were already queued',
    );
    return {
      submission_id: id,
      lead_task_id: leadTask.taskId,
      sales_email_task_id: sales.taskId,
      auto_reply_task_id: reply?.taskId ?? null,
      queued,
    };
  };
}

/** The sales team's email: every field, the score as submitted, and where the lead went. */
function salesNotification(s: EmailjsSubmission, to: string, leadTaskId: string) {
  const { lead } = s;
  const score = scoreLead(lead);
  const yesNo = (v: boolean | undefined) => (v === undefined ? undefined : v ? 'yes' : 'no');
  const rows: [string, string | number | undefined][] = [
    ['Name', lead.name],
    ['Email', lead.email],
    ['Phone', lead.phone],
    ['Address', lead.address],
    ['Postcode', lead.postcode],
    ['Monthly bill', lead.monthly_bill],
    ['Roof', lead.roof_type],
    ['Homeowner', yesNo(lead.homeowner)],
  ];
  const b = score.breakdown;
  const lines = [
    'A new enquiry came in through the website contact form.',
    '',
    ...rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`),
    '',
    `Score: ${score.score}/100 (${score.grade}): bill ${b.bill}, homeowner ${b.homeowner}, roof ${b.roof}, completeness ${b.completeness}`,
    ...(lead.message ? ['', 'Message:', lead.message] : []),
    ...(Object.keys(s.extra).length > 0
      ? ['', 'Other fields:', ...Object.entries(s.extra).map(([k, v]) => `  ${k}: ${v}`)]
      : []),
    '',
    `Submission ${s.id}, received ${s.received_at}${s.origin ? ` from ${s.origin}` : ''}; lead task ${leadTaskId}.`,
  ];
  return {
    to,
    subject: `New website lead: ${lead.name} (${score.grade}, ${score.score})`
      .replace(/[\r\n]+/g, ' ')
      .slice(0, 200),
    text: `${lines.join('\n')}\n`,
    ...(lead.email ? { reply_to: lead.email } : {}),
  };
}

/** Placeholders a template may use: every lead field, `first_name`, and `submission_id`. */
function templateFields(s: EmailjsSubmission): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.lead)) if (v !== undefined) fields[k] = String(v);
  fields.first_name = s.lead.name.split(/\s+/)[0] ?? s.lead.name;
  fields.submission_id = s.id;
  return fields;
}

/** `{{name}}` → the value; unknown placeholders become empty. Plain text only: no HTML is built from input. */
function fill(template: string, fields: Record<string, string>): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, key: string) => fields[key] ?? '');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
