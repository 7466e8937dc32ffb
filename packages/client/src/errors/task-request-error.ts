import { type ErrorCode, TaskApiError } from '@solar-tasks/contract';

/**
 * The API answered with its error body (`{ error: { code, message, details } }`).
 * A {@link TaskApiError}, so code written against the server's errors (switching
 * on `code`, reading `details[].field`) works unchanged on the client.
 */
export class TaskRequestError extends TaskApiError {
  /** The HTTP status the API answered with. */
  readonly httpStatus: number;
  /** The API's request id (`x-request-id`), to quote when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details: unknown,
    httpStatus: number,
    requestId: string | undefined,
  ) {
    super(code, message, details);
    this.name = 'TaskRequestError';
    this.httpStatus = httpStatus;
    this.requestId = requestId;
  }

  /**
   * The fields the API named in `details`: each `details[].field` of a
   * validation error, or `details.field` (e.g. `task_name` for `UNKNOWN_TASK`).
   */
  get fields(): string[] {
    const d = this.details;
    if (Array.isArray(d)) {
      return d.flatMap((issue) =>
        issue && typeof issue === 'object' && typeof issue.field === 'string' ? [issue.field as string] : [],
      );
    }
    if (d && typeof d === 'object' && typeof (d as { field?: unknown }).field === 'string') {
      return [(d as { field: string }).field];
    }
    return [];
  }
}
