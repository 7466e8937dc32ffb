import { openSync } from 'node:fs';
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

let lastMs = Number.NaN;
let lastTime = '';
/**
 * pino's `isoTime`, made once per millisecond: a busy worker writes several
 * lines within one, and `toISOString` was the largest single item of a line's cost.
 */
export function isoTime(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = `,"time":"${new Date(ms).toISOString()}"`;
  }
  return lastTime;
}

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

/**
 * Bytes the asynchronous destination gathers before a write (fewer write(2) calls under load).
 * 64 KiB: each write costs a trip through libuv's thread pool and a copy, and at 4 KiB that was
 * ~0.8 µs of a line's ~2.5 µs (300,000 lines to a file); a quiet process still writes every 250 ms.
 */
const LOG_BUFFER_BYTES = 65536;
/**
 * Room a batch's buffer has past {@link LOG_BUFFER_BYTES}: a line is copied in whole, and one
 * of up to ~5,000 characters always fits in what is left once the buffer is not yet full.
 */
const LOG_BUFFER_SLACK = 16384;
/** A quiet process's lines still leave the buffer within this long. */
const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * A pino logger with secrets redacted. Asynchronous and buffered by default: a
 * synchronous write per line would put `write(2)` on every task's hot path.
 * Lines are written once 64 KiB have gathered or every 250 ms, and flushed when
 * the process exits; a SIGKILL can lose the last 250 ms.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: options.name },
    timestamp: isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (options.destination) return pino(config, options.destination);
  const sync = options.async === false;
  // A path is opened here, synchronously: a destination still opening cannot be flushed at exit.
  const dest = typeof options.dest === 'string' ? openSync(options.dest, 'a') : (options.dest ?? 1);
  if (sync) return pino(config, pino.destination({ dest, sync }));
  // The batch hands SonicBoom whole buffers: its byte mode takes them as they are.
  return pino(config, new LineBatch(pino.destination({ dest, sync, contentMode: 'buffer' })));
}

/** What {@link LineBatch} writes to: pino's SonicBoom destination, in its byte mode (`contentMode: 'buffer'`). */
type SonicDestination = ReturnType<typeof pino.destination>;

/**
 * Copies log lines, as UTF-8, into a buffer as they are written, and hands the
 * destination the buffer once {@link LOG_BUFFER_BYTES} have gathered or every
 * {@link LOG_FLUSH_INTERVAL_MS}. Flushed synchronously when the process exits.
 *
 * A line is a rope of the pieces it was joined from; copied while it is new,
 * its pieces are still in the CPU's cache. Gathering the strings and joining
 * them 64 KiB at a time walked each line's pieces again after the requests
 * in between had evicted them (the join was ~1.4–1.8 µs per request line on
 * the bench's API, more than building the line), and SonicBoom then measured and
 * converted the joined text once more. SonicBoom's own buffering of strings
 * (`minLength`) measures its whole pending buffer on every line.
 */
export class LineBatch {
  #buf = Buffer.allocUnsafe(LOG_BUFFER_BYTES + LOG_BUFFER_SLACK);
  #used = 0;
  readonly #dest: SonicDestination;

  constructor(dest: SonicDestination) {
    this.#dest = dest;
    liveBatches.add(this);
    watchBatches();
  }

  write(line: string): boolean {
    let room = this.#buf.length - this.#used;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; measure exactly only when that might not fit.
    if (line.length * 3 > room) {
      const bytes = Buffer.byteLength(line);
      if (bytes > room) {
        this.drain();
        room = this.#buf.length;
      }
      if (bytes > room) {
        // Longer than a whole buffer: it goes on its own, after what was gathered before it.
        if (!this.#destroyed()) this.#dest.write(Buffer.from(line) as unknown as string);
        return true;
      }
    }
    this.#used += this.#buf.write(line, this.#used);
    if (this.#used >= LOG_BUFFER_BYTES) this.drain();
    return true;
  }

  /** Hands the gathered lines to the destination (which writes them asynchronously). */
  drain(): void {
    if (this.#used === 0 || this.#destroyed()) return;
    const bytes = this.#buf.subarray(0, this.#used);
    // The destination keeps the buffer until it is written: the next lines go to a new one.
    this.#buf = Buffer.allocUnsafe(LOG_BUFFER_BYTES + LOG_BUFFER_SLACK);
    this.#used = 0;
    this.#dest.write(bytes as unknown as string);
  }

  /** SonicBoom's `destroyed` (set once it has ended), which its type declarations leave out. */
  #destroyed(): boolean {
    return (this.#dest as { destroyed?: boolean }).destroyed === true;
  }

  /** Writes everything gathered; `cb` once it is written (pino's `logger.flush(cb)`). */
  flush(cb?: (err?: Error) => void): void {
    this.drain();
    if (cb) this.#dest.flush(cb);
  }

  /** Writes everything gathered, now (exit, fatal errors). */
  flushSync(): void {
    this.drain();
    if (!this.#destroyed()) {
      try {
        this.#dest.flushSync();
      } catch {
        // A destination still opening, or gone: nothing more can be done at exit.
      }
    }
  }

  end(): void {
    this.flushSync();
    liveBatches.delete(this);
    this.#dest.end();
  }
}

/** Every batch not ended: one timer and one pair of exit hooks serve them all. */
const liveBatches = new Set<LineBatch>();
let watching = false;

function watchBatches(): void {
  if (watching) return;
  watching = true;
  setInterval(() => {
    for (const batch of liveBatches) batch.drain();
  }, LOG_FLUSH_INTERVAL_MS).unref();
  // First in line, before pino's own exit hooks flush and end the destinations.
  process.prependListener('beforeExit', () => {
    for (const batch of liveBatches) batch.drain();
  });
  process.prependListener('exit', () => {
    for (const batch of liveBatches) batch.flushSync();
  });
}

/** A value of a {@link lineWriter} line. */
export type LineValue = string | number | boolean | null | undefined;

/**
 * A writer of one fixed kind of line, for the one line on every task's or
 * request's path (a worker's `task completed`, the API's request line): the
 * level and the field names are fixed, the message too unless a call names
 * another (a route's outcome), the values are strings, numbers or booleans, and the line is built
 * with a few string joins and written straight to the logger's destination in
 * the logger's own shape (its level label, time function and bindings; `msg`
 * last; a field left `undefined` is left out). No redaction, serializers or
 * hooks run: give it only fields of your own. pino's generic path over an
 * object (escaping each string character by character) was three quarters of
 * what our worker layer added to a no-op task.
 */
export function lineWriter<K extends string>(
  logger: Logger,
  level: 'info' | 'warn' | 'debug',
  msg: string,
  keys: readonly K[],
): (values: Readonly<Record<K, LineValue>>, message?: string) => void {
  const fieldStarts = keys.map((k) => `,${JSON.stringify(k)}:`);
  const endOf = (m: string) => `,"msg":${JSON.stringify(m)}}\n`;
  const end = endOf(msg);
  // A line's other messages (a few fixed strings, e.g. a route's outcomes), each quoted once.
  const ends = new Map<string, string>();
  // What is fixed for a logger (its destination, level label and bindings) is read once, here.
  const internals = logger as unknown as Record<symbol, unknown>;
  const { lsCacheSym, timeSym, chindingsSym, streamSym, needsMetadataGsym } = pino.symbols;
  const stream = internals[streamSym] as { write(line: string): unknown } & Record<symbol, unknown>;
  const head = (internals[lsCacheSym] as Record<number, string>)[logger.levels.values[level]!]!;
  const time = internals[timeSym] as () => string;
  const bindings = internals[chindingsSym] as string;
  // A multistream routes by metadata pino sets on it: let pino write those lines.
  const viaPino = stream[needsMetadataGsym] === true;
  return (values, message) => {
    if (!logger.isLevelEnabled(level)) return;
    if (viaPino) {
      logger[level](values as Record<string, unknown>, message ?? msg);
      return;
    }
    let line = head + time() + bindings;
    for (let i = 0; i < keys.length; i++) {
      const v = values[keys[i]!];
      if (v === undefined) continue;
      line +=
        fieldStarts[i]! +
        (typeof v === 'number'
          ? Number.isFinite(v)
            ? String(v)
            : 'null'
          : typeof v === 'string'
            ? quoteJson(v)
            : typeof v === 'boolean'
              ? v
                ? 'true'
                : 'false'
              : JSON.stringify(v));
    }
    let tail = end;
    if (message !== undefined && message !== msg) {
      tail = ends.get(message) ?? endOf(message);
      if (ends.size < 64) ends.set(message, tail);
    }
    stream.write(line + tail);
  };
}

/**
 * `JSON.stringify(s)` for a string, the same text, without its cost for the
 * short plain strings a line is made of (ids, names, routes): on Node 20 each
 * `JSON.stringify` call of a short string cost ~850 instructions (a string
 * builder allocated, then shrunk), and a request line makes eight. A string
 * of printable ASCII without `"` or `\` is quoted as it is; anything else, or
 * anything long, goes to `JSON.stringify` (pino does the same below Node 25).
 */
export function quoteJson(s: string): string {
  return s.length <= 100 && PLAIN_JSON_TEXT.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * Printable ASCII (0x20–0x7e) but `"` (0x22) and `\` (0x5c): what a JSON string
 * holds unescaped. V8 compiles it to native code: ~50 ns for a UUID, against
 * ~95 ns for a `charCodeAt` loop over it.
 */
const PLAIN_JSON_TEXT = /^[ !#-[\]-~]*$/;

/** The methods of a logger that {@link lazyChild} stands in for. */
type LazyLogger = Pick<
  Logger,
  | 'level'
  | 'fatal'
  | 'error'
  | 'warn'
  | 'info'
  | 'debug'
  | 'trace'
  | 'silent'
  | 'child'
  | 'bindings'
  | 'setBindings'
  | 'isLevelEnabled'
  | 'flush'
>;

/**
 * `parent.child(bindings, options)`, made only when something is logged
 * through it. Fastify makes a child logger for every request (bindings
 * `{ reqId }`), and with redaction on, making one serialises and redacts its
 * bindings: several microseconds per request, for a logger most requests
 * never use (our request line is written once, by the access hook). Lines
 * written through it are the child's lines, redaction included.
 */
export function lazyChild(
  parent: Logger,
  bindings: pino.Bindings,
  options?: pino.ChildLoggerOptions,
): Logger {
  return new LazyChild(parent, bindings, options) as unknown as Logger;
}

type Args = Parameters<pino.LogFn>;

class LazyChild implements LazyLogger {
  readonly #parent: Logger;
  readonly #bindings: pino.Bindings;
  readonly #options: pino.ChildLoggerOptions | undefined;
  #real: Logger | undefined;

  constructor(parent: Logger, bindings: pino.Bindings, options: pino.ChildLoggerOptions | undefined) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  get #logger(): Logger {
    this.#real ??= this.#parent.child(this.#bindings, this.#options);
    return this.#real;
  }

  get level(): string {
    return this.#real?.level ?? this.#options?.level ?? this.#parent.level;
  }
  set level(level: string) {
    this.#logger.level = level;
  }
  fatal(...args: Args) {
    this.#logger.fatal(...args);
  }
  error(...args: Args) {
    this.#logger.error(...args);
  }
  warn(...args: Args) {
    this.#logger.warn(...args);
  }
  info(...args: Args) {
    this.#logger.info(...args);
  }
  debug(...args: Args) {
    this.#logger.debug(...args);
  }
  trace(...args: Args) {
    this.#logger.trace(...args);
  }
  silent(...args: Args) {
    this.#logger.silent(...args);
  }
  child<C extends string = never>(bindings: pino.Bindings, options?: pino.ChildLoggerOptions<C>) {
    return this.#logger.child(bindings, options);
  }
  bindings() {
    return this.#logger.bindings();
  }
  setBindings(bindings: pino.Bindings) {
    this.#logger.setBindings(bindings);
  }
  isLevelEnabled(level: string) {
    // A child with a level of its own answers for itself; else the parent's answer is the child's.
    if (this.#real || this.#options?.level !== undefined) return this.#logger.isLevelEnabled(level);
    return this.#parent.isLevelEnabled(level);
  }
  flush(cb?: (err?: Error) => void) {
    this.#logger.flush(cb);
  }
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
