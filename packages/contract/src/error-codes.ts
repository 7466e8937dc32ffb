/**
 * The error catalog: every error the REST API answers with has a stable code,
 * an HTTP status and a description. Clients switch on `code`; the API's
 * OpenAPI document and README are generated from (and tested against) this list.
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: {
    status: 422,
    description: 'The request body or query failed validation; `details` names each field.',
  },
  INVALID_ARGUMENTS: {
    status: 422,
    description: "The task's args/kwargs do not fit its schema; `details` names each field.",
  },
  UNKNOWN_TASK: {
    status: 400,
    description: 'No task of that name is registered; `details.known` lists the names.',
  },
  INVALID_JSON: { status: 400, description: 'The body is not valid JSON (or not UTF-8).' },
  INVALID_TASK_ID: { status: 400, description: 'The task id is not of the form the API issues.' },
  BAD_REQUEST: { status: 400, description: 'The request is malformed in a way no other code describes.' },
  SUBMISSION_REJECTED: {
    status: 422,
    description:
      'A form submission looks automated (its honeypot field is filled); nothing was stored. `details.field` names the field.',
  },
  UNAUTHORIZED: { status: 401, description: 'No credentials, or credentials that match no configured key.' },
  FORBIDDEN: { status: 403, description: 'The credentials are valid but lack the scope this route needs.' },
  NOT_FOUND: { status: 404, description: 'No such route.' },
  TASK_NOT_FOUND: {
    status: 404,
    description: 'No task with that id (never existed, or removed by retention).',
  },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    description: 'The idempotency key was already used for a different task or different arguments.',
  },
  TASK_NOT_CANCELLABLE: {
    status: 409,
    description: 'The task has already finished and cannot be cancelled.',
  },
  TASK_NOT_RETRYABLE: { status: 409, description: 'Only failed or cancelled tasks can be retried.' },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    description: 'The body (or the serialized task arguments) is over the limit.',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The Content-Type is not one this route accepts.' },
  RATE_LIMITED: { status: 429, description: 'Too many requests; `Retry-After` says when to try again.' },
  INTERNAL_ERROR: {
    status: 500,
    description: 'An unexpected error; the response carries a request id to quote.',
  },
  QUEUE_UNAVAILABLE: {
    status: 503,
    description: 'Redis is unreachable or full (maxmemory); nothing was queued. Retry later.',
  },
} as const satisfies Record<string, { status: number; description: string }>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;
