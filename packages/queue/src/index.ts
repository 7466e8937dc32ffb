export { oldestPendingAgeSeconds } from './queue-age.js';
export {
  checkRedisConfig,
  parseInfo,
  type RedisConfigCheckOptions,
  type RedisConfigLogger,
  type RedisConfigWarning,
  watchRedisConfig,
} from './redis-config-check.js';
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
export {
  type CleanupOptions,
  type CleanupProgress,
  type CleanupResult,
  type CleanupStatus,
  cleanupTasks,
} from './task-cleanup.js';
export { TaskCounters, type TaskCountersOptions, type TaskEvent } from './task-counters.js';
export {
  type CancelMark,
  failureReason,
  fingerprint,
  STALLED_TOO_OFTEN,
  statusOf,
  type TaskJobData,
  taskIdForIdempotencyKey,
  toStatusResponse,
} from './task-job.js';
export { decodeCursor, type ListTasksOptions, listTasks } from './task-listing.js';
export {
  type FinishOutcome,
  RUNTIME_BUCKETS_SECONDS,
  type RuntimeHistogram,
  TaskMetrics,
  type TaskMetricsOptions,
} from './task-metrics.js';
export {
  assertTaskId,
  type EnqueueInput,
  type EnqueueResult,
  TaskQueue,
  type TaskQueueOptions,
} from './task-queue.js';
export {
  listSchedules,
  loadSchedulesFile,
  parseSchedules,
  ScheduleConfigError,
  type ScheduleEntry,
  type SyncResult,
  scheduleEntrySchema,
  syncSchedules,
} from './task-schedules.js';
export { WorkerPresence, type WorkerPresenceOptions } from './worker-presence.js';
