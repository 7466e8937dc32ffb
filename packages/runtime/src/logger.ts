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
  /** Where to write; stdout by default. */
  destination?: pino.DestinationStream;
}

/**
 * A pino logger with secrets redacted. Asynchronous by default: a synchronous
 * write per line would put `write(2)` on every task's hot path.
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
  const destination =
    options.destination ??
    pino.destination({
      dest: 1,
      sync: options.async === false,
    });
  return pino(config, destination);
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
