import { readFileSync } from 'node:fs';
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

/** A Redis endpoint given as `host:port`. */
export interface HostPort {
  host: string;
  port: number;
}

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:26379`) into endpoints. */
const hostPortList = (example: string) =>
  z.string().transform((value, ctx): HostPort[] => {
    const entries = value
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const out: HostPort[] = [];
    for (const entry of entries) {
      const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(entry);
      const port = Number(m?.[3]);
      if (!m || !(port >= 1 && port <= 65_535)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not host:port; expected comma-separated host:port entries, e.g. ${example}`,
        });
        return z.NEVER;
      }
      out.push({ host: (m[1] ?? m[2])!, port });
    }
    if (out.length === 0) {
      ctx.addIssue({ code: 'custom', message: `must list at least one host:port, e.g. ${example}` });
      return z.NEVER;
    }
    return out;
  });

/** A PEM file read once at start, so a wrong path stops the process with the variable named. */
const pemFile = z.string().transform((path, ctx) => {
  try {
    const pem = readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN')) {
      ctx.addIssue({ code: 'custom', message: `${path} is not a PEM file (no -----BEGIN line)` });
      return z.NEVER;
    }
    return { path, pem };
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(err as Error).message}` });
    return z.NEVER;
  }
});

/** Settings helpers for services' `env.ts`. */
export const setting = { boolean, int, num, redisUrl, hostPortList, pemFile };

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Settings every process shares: environment, logging, Redis, data folder and the seed's task defaults. */
export const commonSettingsShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset: 127.0.0.1:6379 (`pnpm start` brings up a local redis-server there when nothing answers). */
  REDIS_URL: redisUrl.default(DEFAULT_REDIS_URL),
  /** Sentinels to ask for the current master (`host:port,…`); turns on Sentinel mode. */
  REDIS_SENTINELS: hostPortList('sentinel-1:26379,sentinel-2:26379,sentinel-3:26379').optional(),
  /** The master group name the sentinels monitor (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1–64 characters of letters, digits, . _ -' })
    .optional(),
  /** Password of the sentinels themselves, when they have `requirepass`. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** Cluster seed nodes (`host:port,…`); turns on Cluster mode. */
  REDIS_CLUSTER_NODES: hostPortList('redis-1:6379,redis-2:6379,redis-3:6379').optional(),
  /** ACL user of the data nodes (overrides a user in REDIS_URL). */
  REDIS_USERNAME: z.string().optional(),
  /** Password of the data nodes (overrides a password in REDIS_URL). */
  REDIS_PASSWORD: z.string().optional(),
  /** TLS to Redis (and to the sentinels); implied by a `rediss://` REDIS_URL. */
  REDIS_TLS: boolean.optional(),
  /** PEM bundle of CAs to trust for Redis TLS, instead of the system's. */
  REDIS_TLS_CA_FILE: pemFile.optional(),
  /** Replicas that must confirm an enqueue (Redis WAIT) before the API acknowledges it; 0 = don't wait. */
  REDIS_WAIT_REPLICAS: int(0, 16).default(0),
  /** How long an enqueue waits for those replicas before answering 503. */
  REDIS_WAIT_TIMEOUT_MS: int(10, 900).default(500),
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

type CommonShapeOutput = z.output<z.ZodObject<typeof commonSettingsShape>>;

/**
 * Checks between common settings that one field cannot check alone (the
 * Redis topology). Services add it to their schema with
 * `.superRefine(checkCommonSettings)`, so every problem names its variable.
 */
export function checkCommonSettings(s: CommonShapeOutput, ctx: z.RefinementCtx): void {
  const problem = (variable: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: [variable], message });
  if (s.REDIS_SENTINELS && s.REDIS_CLUSTER_NODES)
    problem('REDIS_CLUSTER_NODES', 'set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');
  if (s.REDIS_SENTINELS && !s.REDIS_SENTINEL_NAME)
    problem(
      'REDIS_SENTINEL_NAME',
      'is required with REDIS_SENTINELS: the master name the sentinels monitor (sentinel monitor <name> …)',
    );
  if (!s.REDIS_SENTINELS && s.REDIS_SENTINEL_NAME)
    problem('REDIS_SENTINEL_NAME', 'is only used with REDIS_SENTINELS, which is not set');
  if (!s.REDIS_SENTINELS && s.REDIS_SENTINEL_PASSWORD)
    problem('REDIS_SENTINEL_PASSWORD', 'is only used with REDIS_SENTINELS, which is not set');
  if ((s.REDIS_SENTINELS || s.REDIS_CLUSTER_NODES) && s.REDIS_URL !== DEFAULT_REDIS_URL)
    problem(
      'REDIS_URL',
      'is for a single server; with REDIS_SENTINELS or REDIS_CLUSTER_NODES leave it unset and use REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS',
    );
  if (s.REDIS_CLUSTER_NODES && s.REDIS_WAIT_REPLICAS > 0)
    problem('REDIS_WAIT_REPLICAS', 'is not supported with REDIS_CLUSTER_NODES (WAIT has no key to route by)');
}

/** The common settings as a schema (services extend it). */
export const commonSettingsSchema = z.object(commonSettingsShape).superRefine(checkCommonSettings);
export type CommonSettings = z.output<typeof commonSettingsSchema>;

/** The seed's `TASK_PROCESSING` defaults, in the contract's shape. */
export function taskDefaultsFrom(settings: CommonSettings) {
  return {
    priority: settings.TASK_DEFAULT_PRIORITY,
    maxRetries: settings.TASK_DEFAULT_MAX_RETRIES,
    retryDelay: settings.TASK_DEFAULT_RETRY_DELAY,
  };
}
