import { PRIORITY_HIGHEST, PRIORITY_LOWEST } from '@solar-tasks/contract';
import type { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';

/** BullMQ scores prioritized jobs `priority * 2^32 + insertion counter`. */
const BAND = 0x100000000;

/**
 * Seconds the longest-waiting ready task of `queue` has been due, or 0 when
 * nothing waits. Reads no list or set whole: the tail of the wait list (its
 * oldest job) and the first job of each priority band of the prioritized
 * set (the oldest of that band), then those jobs' `timestamp` and `delay`.
 * A task's due time is its enqueue time plus its delay (a scheduled task is
 * due at its ETA); a task waiting after a retry counts from its first due
 * time adjusted by its last backoff, an approximation on the high side.
 * All keys share the queue's hash tag: two pipelined round trips on any topology.
 */
export async function oldestPendingAgeSeconds(
  redis: RedisClient,
  queue: Queue,
  now = Date.now(),
): Promise<number> {
  const keys = queue.keys;
  const heads = redis.pipeline();
  heads.lindex(keys.wait!, -1);
  for (let p = PRIORITY_HIGHEST; p <= PRIORITY_LOWEST; p++)
    heads.zrangebyscore(keys.prioritized!, p * BAND, (p + 1) * BAND - 1, 'LIMIT', 0, 1);
  const res = (await heads.exec()) ?? [];
  const ids = new Set<string>();
  for (const [err, value] of res) {
    if (err) throw err;
    for (const id of [value].flat()) if (typeof id === 'string' && id) ids.add(id);
  }
  if (ids.size === 0) return 0;
  const jobs = redis.pipeline();
  for (const id of ids) jobs.hmget(queue.toKey(id), 'timestamp', 'delay');
  let oldestDue = Number.POSITIVE_INFINITY;
  for (const [err, value] of (await jobs.exec()) ?? []) {
    if (err) throw err;
    const [timestamp, delay] = value as (string | null)[];
    if (!timestamp) continue;
    oldestDue = Math.min(oldestDue, Number(timestamp) + Number(delay ?? 0));
  }
  return Number.isFinite(oldestDue) ? Math.max(0, (now - oldestDue) / 1000) : 0;
}
