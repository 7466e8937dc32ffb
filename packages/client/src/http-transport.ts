import { setTimeout as sleep } from 'node:timers/promises';
import { errorBodySchema } from '@solar-tasks/contract';
import type { z } from 'zod';
import { TaskConnectionError } from './errors/task-connection-error.js';
import { TaskRequestError } from './errors/task-request-error.js';
import { UnexpectedResponseError } from './errors/unexpected-response-error.js';

/** How the client reaches the API; every field but `baseUrl` and `apiKey` has a default. */
export interface TransportOptions {
  /** The API's base URL, e.g. `https://tasks.solar-crm.example` (a path prefix is kept). */
  baseUrl: string | URL;
  /** An API key (`API_KEYS` on the server), sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Longest one attempt may take, in ms. @defaultValue 10000 */
  timeoutMs?: number;
  /**
   * Attempts for calls that are safe to repeat (reads, cancel, and enqueue
   * with an idempotency key) when the connection fails or the API answers
   * 429/502/503/504. Other calls are tried once. @defaultValue 4
   */
  maxAttempts?: number;
  /** First wait before a repeat, doubled each time (with jitter). @defaultValue 250 */
  backoffMs?: number;
  /**
   * Longest wait before a repeat. A `Retry-After` longer than this is not
   * waited for: the error is thrown instead. @defaultValue 5000
   */
  maxBackoffMs?: number;
  /** The fetch to use. @defaultValue `globalThis.fetch` (undici) */
  fetch?: typeof fetch;
}

/** One call: what to send, how to read the answer, and whether it may be repeated. */
export interface RequestSpec<S extends z.ZodType> {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** The contract's schema of a successful answer. */
  schema: S;
  /** True when sending the request twice has the effect of sending it once. */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
}

/** A parsed successful answer and its HTTP status. */
export interface TransportResponse<T> {
  data: T;
  status: number;
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/** Resolved options: defaults filled and checked once, at construction. */
interface ResolvedOptions {
  base: string;
  authorization: string;
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  fetch: typeof fetch;
}

/**
 * HTTP to the API: auth header, JSON, timeouts, repeats with backoff for
 * idempotent calls, and answers parsed by the contract's schemas. Errors are
 * {@link TaskRequestError} (the API said no), {@link TaskConnectionError} (no
 * answer) or {@link UnexpectedResponseError} (an answer outside the contract).
 */
export class HttpTransport {
  readonly #opts: ResolvedOptions;

  constructor(options: TransportOptions) {
    this.#opts = resolveOptions(options);
  }

  /** The base URL requests go to (no trailing slash). */
  get baseUrl(): string {
    return this.#opts.base;
  }

  async request<S extends z.ZodType>(spec: RequestSpec<S>): Promise<TransportResponse<z.output<S>>> {
    const { maxAttempts } = this.#opts;
    const attempts = spec.idempotent ? maxAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      let text: string;
      try {
        res = await this.#send(spec);
        text = await res.text();
      } catch (err) {
        if (spec.signal?.aborted) throw spec.signal.reason;
        if (attempt >= attempts) {
          throw new TaskConnectionError(
            `${spec.method} ${spec.path}: no answer from ${this.#opts.base} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${describeNetworkError(err)}`,
            attempt,
            err,
          );
        }
        await sleep(this.#backoff(attempt), undefined, { signal: spec.signal });
        continue;
      }
      if (RETRYABLE_STATUSES.has(res.status) && attempt < attempts) {
        const wait = retryAfterMs(res.headers.get('retry-after')) ?? this.#backoff(attempt);
        if (wait <= this.#opts.maxBackoffMs) {
          await sleep(wait, undefined, { signal: spec.signal });
          continue;
        }
      }
      return this.#read(spec, res, text);
    }
  }

  #send(spec: RequestSpec<z.ZodType>): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#opts.timeoutMs);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: this.#opts.authorization,
    };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    return this.#opts.fetch(`${this.#opts.base}${spec.path}`, {
      method: spec.method,
      headers,
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      signal: spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout,
      redirect: 'error',
    });
  }

  #read<S extends z.ZodType>(
    spec: RequestSpec<S>,
    res: Response,
    text: string,
  ): TransportResponse<z.output<S>> {
    const where = `${spec.method} ${spec.path}`;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new UnexpectedResponseError(`${where}: answer ${res.status} is not JSON`, res.status, text, err);
    }
    if (!res.ok) {
      const parsed = errorBodySchema.safeParse(json);
      if (!parsed.success) {
        throw new UnexpectedResponseError(
          `${where}: answer ${res.status} without the API's error body`,
          res.status,
          text,
          parsed.error,
        );
      }
      const { code, message, details, request_id } = parsed.data.error;
      throw new TaskRequestError(
        code,
        message,
        details,
        res.status,
        res.headers.get('x-request-id') ?? request_id,
      );
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      throw new UnexpectedResponseError(
        `${where}: answer ${res.status} does not match the contract: ${parsed.error.message}`,
        res.status,
        text,
        parsed.error,
      );
    }
    return { data: parsed.data, status: res.status };
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so clients do not retry in step. */
  #backoff(attempt: number): number {
    const full = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** (attempt - 1));
    return full / 2 + Math.random() * (full / 2);
  }
}

function resolveOptions(options: TransportOptions): ResolvedOptions {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new TypeError(`baseUrl must be an absolute http(s) URL, got "${String(options.baseUrl)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`baseUrl must be an http(s) URL, got protocol "${url.protocol}"`);
  }
  if (url.search || url.hash) throw new TypeError('baseUrl must not have a query or fragment');
  if (url.username || url.password)
    throw new TypeError('baseUrl must not carry credentials: pass the key as apiKey');
  if (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(options.apiKey)) {
    // Never echo the key: it is a secret, and this message may reach a log.
    throw new TypeError('apiKey must be a non-empty string of printable ASCII without spaces');
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 4;
  const backoffMs = options.backoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  if (!(backoffMs >= 0)) throw new RangeError(`backoffMs must be ≥ 0, got ${backoffMs}`);
  if (!(maxBackoffMs >= backoffMs))
    throw new RangeError(`maxBackoffMs must be ≥ backoffMs (${backoffMs}), got ${maxBackoffMs}`);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('no fetch available: pass options.fetch');
  return {
    base: url.href.replace(/\/+$/, ''),
    authorization: `Bearer ${options.apiKey}`,
    timeoutMs,
    maxAttempts,
    backoffMs,
    maxBackoffMs,
    fetch: fetchImpl,
  };
}

/** `Retry-After` in ms (seconds or an HTTP date), or undefined. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** undici reports "fetch failed" with the real reason (ECONNREFUSED, "other side closed") in `cause`. */
function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? err.message;
}
