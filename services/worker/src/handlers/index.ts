import { generateReport, processEmailjsSubmission, processLead, sendEmail } from '@solar-tasks/contract';
import { TaskRegistry } from '../task-registry.js';
import { createGenerateReportHandler } from './generate-report.js';
import type { HandlerDeps } from './handler-deps.js';
import { createProcessEmailjsSubmissionHandler } from './process-emailjs-submission.js';
import { createProcessLeadHandler } from './process-lead.js';
import { createSendEmailHandler } from './send-email.js';

export type { AutoReplySettings, HandlerDeps, SmtpSettings } from './handler-deps.js';

/** A registry with the four built-in tasks. Add your own with `registry.register(contract, handler)`. */
export function builtinRegistry(deps: HandlerDeps): TaskRegistry {
  return new TaskRegistry()
    .register(sendEmail, createSendEmailHandler(deps))
    .register(processLead, createProcessLeadHandler(deps))
    .register(generateReport, createGenerateReportHandler(deps))
    .register(processEmailjsSubmission, createProcessEmailjsSubmissionHandler(deps));
}
