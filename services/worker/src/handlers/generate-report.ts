import { join } from 'node:path';
import type { generateReport } from '@solar-tasks/contract';
import { LEADS_COLUMNS, leadsRows } from '../reports/leads-report.js';
import { writeReport } from '../reports/report-writer.js';
import { TASK_SUMMARY_COLUMNS, taskSummaryRows } from '../reports/task-summary-report.js';
import type { TaskHandler } from '../task-registry.js';
import type { HandlerDeps } from './handler-deps.js';

const DAY_MS = 86_400_000;

/**
 * `generate_report`: writes `DATA_DIR/reports/<kind>_<from>_<to>.<csv|json>`
 * (the same arguments write the same file again) and, with `email_to`,
 * queues a `send_email` with the file attached (idempotency key
 * `report:<task id>:email`, so a retry does not mail it twice).
 *
 * - `task_summary`: per task name, tasks that finished in the period: counts
 *   by final status, mean and p95 run time, top failure reasons.
 * - `leads`: per day, new leads, merged submissions, mean score, by source,
 *   from the lead sink file.
 *
 * Both stream their input (finished-job sets page by page; the leads file
 * line by line) and write rows as they come. Periods are whole UTC days.
 * Result: `{ path, rows, kind, from, to, format, email_task_id }`, `path`
 * relative to DATA_DIR.
 */
export function createGenerateReportHandler(deps: HandlerDeps): TaskHandler<typeof generateReport> {
  return async (args, ctx) => {
    const path = `reports/${args.kind}_${args.from}_${args.to}.${args.format}`;
    const file = join(deps.dataDir, path);
    const meta = { kind: args.kind, from: args.from, to: args.to, generated_at: new Date().toISOString() };
    const rows =
      args.kind === 'task_summary'
        ? await writeReport(
            file,
            args.format,
            TASK_SUMMARY_COLUMNS,
            taskSummaryRows(
              ctx.queue,
              deps.redis,
              Date.parse(`${args.from}T00:00:00Z`),
              Date.parse(`${args.to}T00:00:00Z`) + DAY_MS,
              ctx.signal,
            ),
            meta,
            ctx.signal,
          )
        : await writeReport(
            file,
            args.format,
            LEADS_COLUMNS,
            leadsRows(join(deps.dataDir, 'leads.jsonl'), args.from, args.to, ctx.signal),
            meta,
            ctx.signal,
          );
    ctx.logger.info({ path, rows }, 'report written');

    let emailTaskId: string | null = null;
    if (args.email_to) {
      const sent = await ctx.queue.enqueue({
        task_name: 'send_email',
        kwargs: {
          to: args.email_to,
          subject: `Report ${args.kind}, ${args.from} to ${args.to}`,
          text: `The ${args.kind} report for ${args.from} to ${args.to} (${rows} rows) is attached.\n`,
          attachments: [{ path, content_type: args.format === 'csv' ? 'text/csv' : 'application/json' }],
        },
        idempotency_key: `report:${ctx.taskId}:email`,
      });
      emailTaskId = sent.taskId;
    }
    return {
      path,
      rows,
      kind: args.kind,
      from: args.from,
      to: args.to,
      format: args.format,
      email_task_id: emailTaskId,
    };
  };
}
