/**
 * The server answered something outside the API's contract: not JSON, an
 * error body without a known code, or a body that fails the contract's
 * response schema (a proxy's error page, or a server of another version).
 */
export class UnexpectedResponseError extends Error {
  /** The HTTP status of the answer. */
  readonly httpStatus: number;
  /** The start of the body, for the log. */
  readonly bodyExcerpt: string;

  constructor(message: string, httpStatus: number, body: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UnexpectedResponseError';
    this.httpStatus = httpStatus;
    this.bodyExcerpt = body.slice(0, 500);
  }
}
