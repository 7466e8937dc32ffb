import { rmSync, statSync, writeFileSync } from 'node:fs';

/** Options of {@link Heartbeat}. */
export interface HeartbeatOptions {
  /** File to touch (`WORKER_HEARTBEAT_FILE`). */
  file: string;
  /** How often. @defaultValue 5000 ms */
  intervalMs?: number;
  /** What to write into it (for a person reading the file; the check reads only its age). */
  describe?: () => Record<string, unknown>;
}

/**
 * Proof of life for a process without an HTTP port: a file rewritten every
 * few seconds while the event loop turns, and removed on shutdown. Container
 * health checks (`node dist/healthcheck.js <file>`) read its age. It says
 * nothing about Redis on purpose: a worker waiting for Redis is alive, and
 * restarting it would not bring Redis back.
 */
export class Heartbeat {
  readonly file: string;
  readonly #intervalMs: number;
  readonly #describe: () => Record<string, unknown>;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HeartbeatOptions) {
    if (!options.file) throw new TypeError('Heartbeat needs a file');
    const intervalMs = options.intervalMs ?? 5000;
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);
    this.file = options.file;
    this.#intervalMs = intervalMs;
    this.#describe = options.describe ?? (() => ({}));
  }

  /** Writes now, then every interval. */
  start(): void {
    this.#beat();
    this.#timer ??= setInterval(() => this.#beat(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops and removes the file, so a stopped worker reads as not alive. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    rmSync(this.file, { force: true });
  }

  #beat(): void {
    try {
      writeFileSync(
        this.file,
        `${JSON.stringify({ at: new Date().toISOString(), pid: process.pid, ...this.#describe() })}\n`,
      );
    } catch {
      // A full or read-only disk must not kill the worker; the check will report it.
    }
  }
}

/** Seconds since the heartbeat file was written, or undefined when there is none. */
export function heartbeatAgeSeconds(file: string, now = Date.now()): number | undefined {
  try {
    return (now - statSync(file).mtimeMs) / 1000;
  } catch {
    return undefined;
  }
}
