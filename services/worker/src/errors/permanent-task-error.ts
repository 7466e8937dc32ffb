/**
 * Thrown by a handler when retrying cannot help (a rejected recipient, a lead
 * the CRM refuses as invalid): the task fails at once, whatever retries remain.
 */
export class PermanentTaskError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentTaskError';
  }
}
