import type { TaskDefinition } from '../define-task.js';
import { generateReport } from './generate-report.js';
import { processEmailjsSubmission } from './process-emailjs-submission.js';
import { processLead } from './process-lead.js';
import { sendEmail } from './send-email.js';

export {
  dataRelativePath,
  EXTRA_FIELD_LIMITS,
  emailAddress,
  leadExtraFields,
} from './fields.js';
export { generateReport, REPORT_KINDS } from './generate-report.js';
export { processEmailjsSubmission } from './process-emailjs-submission.js';
export { processLead, ROOF_TYPES } from './process-lead.js';
export { emailAttachment, sendEmail } from './send-email.js';

/** The four tasks the seed system shipped, in the order its documentation lists them. */
export const builtinTasks: readonly TaskDefinition[] = Object.freeze([
  processEmailjsSubmission,
  sendEmail,
  processLead,
  generateReport,
]);
