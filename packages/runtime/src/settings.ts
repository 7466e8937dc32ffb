import { z } from 'zod';

/** Thrown when settings are invalid; the message names every bad variable. */
export class SettingsError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/**
 * Parses environment variables with a zod schema. Empty strings count as
 * unset (compose files and `.env` files write `NAME=` for "no value").
 */
export function parseSettings<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new SettingsError(
    result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(settings)'),
      message: issue.message,
    })),
  );
}

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const num = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const redisUrl = z.string().refine((v) => /^rediss?:\/\/[^\s]+$/.test(v) && URL.canParse(v), {
  error: 'must be a redis:// or rediss:// URL',
});

/** Settings helpers for services' `env.ts`. */
export const setting = { boolean, int, num, redisUrl };

/** Settings every process shares: environment, logging, Redis, data folder and the seed's task defaults. */
export const commonSettingsShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset: 127.0.0.1:6379 (`pnpm start` brings up a local redis-server there when nothing answers). */
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]{1,32}$/, { error: 'must be 1–32 characters of letters, digits, _ - { }' })
    .default('solar'),
  DATA_DIR: z.string().default('./.data'),
  TASK_DEFAULT_PRIORITY: int(1, 10).default(5),
  TASK_DEFAULT_MAX_RETRIES: int(0, 100).default(3),
  TASK_DEFAULT_RETRY_DELAY: num(0, 7 * 86_400).default(60),
  TASK_CLEANUP_DAYS: num(0.000_01, 3650).default(7),
};

/** The common settings as a schema (services extend it). */
export const commonSettingsSchema = z.object(commonSettingsShape);
export type CommonSettings = z.output<typeof commonSettingsSchema>;

/** The seed's `TASK_PROCESSING` defaults, in the contract's shape. */
export function taskDefaultsFrom(settings: CommonSettings) {
  return {
    priority: settings.TASK_DEFAULT_PRIORITY,
    maxRetries: settings.TASK_DEFAULT_MAX_RETRIES,
    retryDelay: settings.TASK_DEFAULT_RETRY_DELAY,
  };
}
