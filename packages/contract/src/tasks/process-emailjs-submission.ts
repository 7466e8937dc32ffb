import { z } from 'zod';
import { defineTask } from '../define-task.js';

/** `process_emailjs_submission`: a stored website form submission becomes a lead and notification emails. */
export const processEmailjsSubmission = defineTask({
  name: 'process_emailjs_submission',
  description: 'Process form submissions from website (EmailJS payloads)',
  args: z.strictObject({
    /** Id of the submission the webhook stored (`emailjs:submission:<id>`). */
    submission_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,100}$/, 'must be 8–100 characters of A–Z, a–z, 0–9, _ or -'),
  }),
  defaults: { timeout: 60 },
  queue: 'default',
});
