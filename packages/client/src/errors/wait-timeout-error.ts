import type { TaskStatusResponse } from '@solar-tasks/contract';

/** `wait()` gave up before the task finished. The task itself is untouched and keeps going. */
export class WaitTimeoutError extends Error {
  readonly taskId: string;
  /** The last status read. */
  readonly lastStatus: TaskStatusResponse;

  constructor(taskId: string, timeoutMs: number, lastStatus: TaskStatusResponse) {
    super(`task ${taskId} was still ${lastStatus.status} after ${timeoutMs} ms`);
    this.name = 'WaitTimeoutError';
    this.taskId = taskId;
    this.lastStatus = lastStatus;
  }
}
