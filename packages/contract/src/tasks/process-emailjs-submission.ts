import { z } from 'zod';
import { defineTask } from '../define-task.js';
import { emailjsSubmissionIdSchema } from '../emailjs.js';

/** `process_emailjs_submission`: a stored website form submission becomes a lead and notification emails. */
export const processEmailjsSubmission = defineTask({
  name: 'process_emailjs_submission',
  description: 'Process form submissions from website (EmailJS payloads)',
  args: z.strictObject({
    /** Id of the submission the webhook stored (`<REDIS_PREFIX>:{emailjs}:submission:<id>`). */
    submission_id: emailjsSubmissionIdSchema,
  }),
  defaults: { timeout: 60 },
  queue: 'default',
});
