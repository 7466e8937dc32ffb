import { createRedisConnection } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeasedRedisStore } from './leased-rate-limit-store.js';

const redis = createRedisConnection({ url: testRedisUrl(), prefix: 'rl-test' }, 'api');
beforeAll(async () => {
  // An api-role connection queues nothing while connecting: wait until it is up.
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
});
afterAll(() => redis.disconnect());

/** A store as one API replica holds it, on a namespace of its own test. */
const replica = (nameSpace: string, maxLease?: number) =>
  new LeasedRedisStore({ redis, nameSpace, ...(maxLease ? { maxLease } : {}) });

const incr = (store: LeasedRedisStore, key: string, max: number, windowMs = 60_000) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) =>
    store.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), windowMs, max),
  );

/** `n` requests at once (as concurrent HTTP requests arrive), in the order they were made. */
const burst = (store: LeasedRedisStore, key: string, max: number, n: number, windowMs?: number) =>
  Promise.all(Array.from({ length: n }, () => incr(store, key, max, windowMs)));

describe('LeasedRedisStore', () => {
  it('counts exactly near a small limit: the first 5 pass, then every request is over', async () => {
    const ns = `${uniquePrefix('rl')}:`;
    const a = replica(ns);
    const b = replica(ns);
    const first = await burst(a, 'key:k', 5, 3);
    const second = await burst(b, 'key:k', 5, 4);
    expect([...first, ...second].filter((r) => r.current <= 5)).toHaveLength(5);
    expect((await incr(a, 'key:k', 5)).current).toBeGreaterThan(5);
    const ttl = (await incr(b, 'key:k', 5)).ttl;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('never lets replicas together past the limit, and wastes little of it', async () => {
    const ns = `${uniquePrefix('rl')}:`;
    const replicas = [replica(ns), replica(ns), replica(ns)];
    const max = 3000;
    const results: { current: number }[] = [];
    // Rounds of concurrent requests spread over three replicas, well past the limit.
    for (let round = 0; round < 40; round++)
      for (const r of replicas) results.push(...(await burst(r, 'key:busy', max, 40)));
    const passed = results.filter((r) => r.current <= max).length;
    expect(passed).toBeLessThanOrEqual(max);
    // Each replica may hold at most 1/32 of the headroom it last saw, unused, when the limit is reached.
    expect(passed).toBeGreaterThanOrEqual(max - 3 * Math.ceil(max / 32));
    // The same positions are never handed out twice.
    const positions = results.filter((r) => r.current <= max).map((r) => r.current);
    expect(new Set(positions).size).toBe(positions.length);
    // Far below the limit, one Redis call serves many requests.
    const calls = replicas.reduce((n, r) => n + r.leases, 0);
    expect(calls).toBeLessThan(results.length / 10);
    const counted = Number(await redis.get(`${ns}key:busy`));
    expect(counted).toBeGreaterThanOrEqual(passed);
  });

  it('takes the next lease before the tokens run out: steady requests never wait on Redis', async () => {
    const ns = `${uniquePrefix('rl')}:`;
    const a = replica(ns, 20);
    const max = 1_000_000;
    const positions = [(await incr(a, 'key:steady', max)).current];
    // Requests a few ms apart, as a steady stream arrives: each is answered at once (its
    // callback runs inside incr), from a lease taken while half of the last one was left.
    let waited = 0;
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 5));
      let answered = false;
      a.incr(
        'key:steady',
        (err, res) => {
          if (err) throw err;
          answered = true;
          positions.push(res!.current);
        },
        60_000,
        max,
      );
      if (!answered) waited++;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(waited).toBe(0);
    expect(positions).toHaveLength(61);
    expect(new Set(positions).size).toBe(61);
    // Still one Redis call per many requests, and no more held than one lease's worth.
    expect(a.leases).toBeLessThanOrEqual(8);
    expect(Number(await redis.get(`${ns}key:steady`))).toBeLessThanOrEqual(61 + 20);
  });

  it('starts a new window once the old one ends', async () => {
    const ns = `${uniquePrefix('rl')}:`;
    const a = replica(ns);
    const first = await burst(a, 'ip:10.0.0.1', 2, 3, 300);
    expect(first.map((r) => r.current <= 2)).toEqual([true, true, false]);
    await new Promise((r) => setTimeout(r, 400));
    expect((await incr(a, 'ip:10.0.0.1', 2, 300)).current).toBeLessThanOrEqual(2);
  });

  it('keeps keys apart', async () => {
    const ns = `${uniquePrefix('rl')}:`;
    const a = replica(ns);
    await burst(a, 'key:noisy', 3, 10);
    expect((await incr(a, 'key:quiet', 3)).current).toBe(1);
  });
});
