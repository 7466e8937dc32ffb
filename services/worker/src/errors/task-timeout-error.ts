/** An attempt ran past its task's timeout; it counts as a failed attempt and is retried by policy. */
export class TaskTimeoutError extends Error {
  constructor(readonly timeoutSeconds: number) {
    super(`timed out after ${timeoutSeconds} s`);
    this.name = 'TaskTimeoutError';
  }
}
