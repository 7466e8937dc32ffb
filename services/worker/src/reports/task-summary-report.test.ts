import { createRedisConnection } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { finishedIds, percentile } from './task-summary-report.js';

const prefix = uniquePrefix('report');
const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'worker');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('finishedIds', () => {
  it('pages through a finished set by score, once each, even with many equal scores', async () => {
    const key = `${prefix}:completed`;
    // 30 jobs over 6 distinct finish times (5 at each), plus two outside the range.
    const members: (string | number)[] = [];
    for (let i = 0; i < 30; i++) members.push(1000 + Math.floor(i / 5), `job-${i}`);
    members.push(999, 'before', 1006, 'after');
    await redis.zadd(key, ...members);
    const seen: string[] = [];
    let pages = 0;
    for await (const page of finishedIds(redis, key, 1000, 1006, new AbortController().signal, 4)) {
      seen.push(...page);
      pages++;
    }
    expect(seen.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `job-${i}`).sort());
    expect(pages).toBeGreaterThan(6);
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    expect(percentile([], 0.95)).toBeNull();
    expect(percentile([5], 0.95)).toBe(5);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(95);
    expect(percentile([10, 1, 7, 3], 0.5)).toBe(3);
  });
});
