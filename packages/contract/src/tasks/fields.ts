import { z } from 'zod';

/**
 * Shared field schemas for task arguments. Lengths are bounded everywhere: a
 * task payload lives in Redis memory until retention removes it.
 */

/** An e-mail address, trimmed and lower-cased. */
export const emailAddress = z.string().trim().toLowerCase().max(254).pipe(z.email());

/** One address or a list of up to 50. */
export const emailRecipients = z.union([emailAddress, z.array(emailAddress).min(1).max(50)]);

/** A path relative to `DATA_DIR`: no absolute paths, no `..`, no NUL. */
export const dataRelativePath = z
  .string()
  .min(1)
  .max(512)
  .refine(
    (p) => !p.startsWith('/') && !p.startsWith('\\') && !/^[a-zA-Z]:/.test(p),
    'must be relative to DATA_DIR',
  )
  .refine((p) => !p.split(/[\\/]/).includes('..'), 'must not contain ".."')
  .refine((p) => !p.includes('\0'), 'must not contain NUL');

/** A calendar date `YYYY-MM-DD`. */
export const isoDate = z.iso.date();

/** A short free-text field: trimmed, bounded. */
export const shortText = (max = 200) => z.string().trim().max(max);

/** Longest name and value of a form field kept verbatim ("extra" fields of a website lead). */
export const EXTRA_FIELD_LIMITS = { count: 50, nameLength: 64, valueLength: 2_000 } as const;

/** Unrecognised form fields kept with a lead: bounded in count and size. */
export const leadExtraFields = z
  .record(
    z.string().min(1).max(EXTRA_FIELD_LIMITS.nameLength),
    z.string().max(EXTRA_FIELD_LIMITS.valueLength),
  )
  .refine((r) => Object.keys(r).length <= EXTRA_FIELD_LIMITS.count, {
    message: `at most ${EXTRA_FIELD_LIMITS.count} extra fields`,
  });
