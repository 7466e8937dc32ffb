// The types the answers are made of, from the contract, so callers need one import.
export {
  type ErrorCode,
  type QueueStatusResponse,
  TaskApiError,
  type TaskStatus,
  type TaskStatusResponse,
} from '@solar-tasks/contract';
export { TaskConnectionError } from './errors/task-connection-error.js';
export { TaskRequestError } from './errors/task-request-error.js';
export { UnexpectedResponseError } from './errors/unexpected-response-error.js';
export { WaitTimeoutError } from './errors/wait-timeout-error.js';
export type { TransportOptions } from './http-transport.js';
export {
  type CallOptions,
  type ClientOptions,
  createClient,
  type EnqueueOptions,
  type EnqueueResult,
  TaskClient,
  type TaskType,
  type WaitOptions,
} from './task-client.js';
