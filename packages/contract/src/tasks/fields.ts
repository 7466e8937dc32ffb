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
