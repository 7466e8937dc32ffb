import { ERROR_CODES, type ErrorCode } from './error-codes.js';

/**
 * An error a caller caused or must know about, carrying a catalog code. The
 * API answers it with the catalog's HTTP status and `{ error: { code, message, details } }`;
 * the CLI and the SDKs surface the same code.
 */
export class TaskApiError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'TaskApiError';
    this.code = code;
    this.details = details;
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}
