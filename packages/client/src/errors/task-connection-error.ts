/**
 * No answer from the API: the connection failed, was cut or timed out on
 * every attempt the call was allowed. `cause` holds the last network error.
 */
export class TaskConnectionError extends Error {
  /** Attempts made (1 for calls that are never repeated). */
  readonly attempts: number;

  constructor(message: string, attempts: number, cause: unknown) {
    super(message, { cause });
    this.name = 'TaskConnectionError';
    this.attempts = attempts;
  }
}
