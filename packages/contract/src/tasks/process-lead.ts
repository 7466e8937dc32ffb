import { z } from 'zod';
import { defineTask } from '../define-task.js';
import { emailAddress, leadExtraFields, shortText } from './fields.js';

/** Roof types the sales team quotes for; anything else is `other`. */
export const ROOF_TYPES = ['tile', 'metal', 'shingle', 'flat', 'slate', 'other'] as const;

/** `process_lead`: normalise, de-duplicate, score and deliver one solar lead. */
export const processLead = defineTask({
  name: 'process_lead',
  description: 'Process lead data: normalise, de-duplicate, score and deliver to the lead sink',
  args: z
    .strictObject({
      name: shortText(200).min(1),
      email: emailAddress.optional(),
      phone: shortText(40).optional(),
      address: shortText(500).optional(),
      postcode: shortText(20).optional(),
      /** Average monthly electricity bill, in the account's currency. */
      monthly_bill: z.number().min(0).max(100_000).optional(),
      roof_type: z.enum(ROOF_TYPES).optional(),
      homeowner: z.boolean().optional(),
      source: shortText(100).default('api'),
      message: z.string().trim().max(5_000).optional(),
      /** When the customer submitted it (ISO-8601); defaults to when the task runs. */
      submitted_at: z.iso.datetime({ offset: true }).optional(),
      /** Key of the submission this lead came from, carried through for traceability. */
      submission_id: shortText(100).optional(),
      /** Form fields the mapping did not recognise, kept verbatim for the CRM (at most 50). */
      extra: leadExtraFields.optional(),
    })
    .refine((lead) => lead.email !== undefined || lead.phone !== undefined, {
      message: 'a lead needs an email or a phone number',
      path: ['email'],
    }),
  defaults: { timeout: 30 },
  queue: 'default',
});
