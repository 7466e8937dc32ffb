import { z } from 'zod';

/**
 * The fault suite's settings (the only file here that reads `process.env`).
 * The defaults are what `pnpm test` runs; `pnpm soak` raises them.
 */
const schema = z.object({
  /** Tasks pushed through the bounded-memory test. */
  FAULT_MEMORY_TASKS: z.coerce.number().int().min(1000).default(20_000),
});

export const faultSettings = schema.parse(process.env);

/** The environment child processes start from (PATH and friends); tests add their settings on top. */
export function inheritedEnv(): Record<string, string | undefined> {
  const { REDIS_URL: _url, REDIS_PREFIX: _prefix, ...rest } = process.env;
  return rest;
}
