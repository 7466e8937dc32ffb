import { generateReport, processEmailjsSubmission, processLead, sendEmail } from '@solar-tasks/contract';
import { TaskRegistry } from '../task-registry.js';
import type { HandlerDeps } from './handler-deps.js';
import { notImplemented } from './not-yet.js';
import { createProcessLeadHandler } from './process-lead.js';
import { createSendEmailHandler } from './send-email.js';

export type { HandlerDeps } from './handler-deps.js';

/** A registry with the four built-in tasks. Add your own with `registry.register(contract, handler)`. */
export function builtinRegistry(deps: HandlerDeps): TaskRegistry {
  return new TaskRegistry()
    .register(sendEmail, createSendEmailHandler(deps))
    .register(processLead, createProcessLeadHandler(deps))
    .register(generateReport, notImplemented('generate_report'))
    .register(processEmailjsSubmission, notImplemented('process_emailjs_submission'));
}
