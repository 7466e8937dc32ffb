export {
  type ConnectionRole,
  clusterOptions,
  createRedisConnection,
  describeRedis,
  type RedisClient,
  type RedisEndpoint,
  type RedisSettings,
  type RedisTlsSettings,
  type RedisTopology,
  redactRedisUrl,
  redisOptions,
  redisSettingsFrom,
  redisTopology,
} from './redis-connection.js';
export { type RedisKeys, redisKeys } from './redis-keys.js';
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
