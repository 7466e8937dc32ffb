import { type Logger, type LoggerOptions, pino } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  '*.*.accessToken',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["x-emailjs-secret"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  name: string;
  level: string;
  /** Write asynchronously (buffered); the default outside tests. */
  async?: boolean;
  /** Where to write: a stream of your own (tests), used as is. */
  destination?: pino.DestinationStream;
  /** Where the default destination writes: a file descriptor or a file path. @defaultValue 1 (stdout) */
  dest?: number | string;
}

/** Bytes the asynchronous destination gathers before a write (fewer write(2) calls under load). */
const LOG_BUFFER_BYTES = 4096;
/** A quiet process's lines still leave the buffer within this long. */
const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * A pino logger with secrets redacted. Asynchronous and buffered by default: a
 * synchronous write per line would put `write(2)` on every task's hot path.
 * Lines are written once 4 KiB have gathered or every 250 ms, and flushed when
 * the process exits (pino's exit hook); a SIGKILL can lose the last 250 ms.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.destination) return pino(config, options.destination);
  const sync = options.async === false;
  const destination = pino.destination({
    dest: options.dest ?? 1,
    sync,
    ...(sync ? {} : { minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS }),
  });
  return pino(config, destination);
}

/**
 * A child of `logger` that skips the redaction pass, for hot-path lines whose
 * fields are all our own (ids, names, numbers, a key's name), never a secret:
 * redaction is most of such a line's cost. Same destination, level and bindings.
 */
export function withoutRedaction(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/** `ann@example.com` → `a***@example.com`: enough to tell messages apart, not to harvest addresses. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** `+61412345678` → `+61******678`. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, '');
  if (digits.length <= 5) return '***';
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 6)}${digits.slice(-3)}`;
}
