export {
  type ConnectionRole,
  createRedisConnection,
  type RedisSettings,
  redactRedisUrl,
  redisOptions,
} from './redis-connection.js';
export { TaskCounters, type TaskCountersOptions, type TaskEvent } from './task-counters.js';
export {
  type CancelMark,
  fingerprint,
  statusOf,
  type TaskJobData,
  taskIdForIdempotencyKey,
  toStatusResponse,
} from './task-job.js';
export {
  assertTaskId,
  type EnqueueInput,
  type EnqueueResult,
  TaskQueue,
  type TaskQueueOptions,
} from './task-queue.js';
