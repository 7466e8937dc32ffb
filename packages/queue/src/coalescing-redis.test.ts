import type { Socket } from 'node:net';
import { type RedisServer, startRedisServer } from '@solar-tasks/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS_PER_WRITE, CoalescingRedis } from './coalescing-redis.js';
import { createRedisConnection } from './redis-connection.js';

// Its own server: the test kills client connections.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop({ removeData: true });
});

/** Counts the socket's writes from now on: `_write` for one chunk, `_writev` for several. */
function countWrites(client: Redis) {
  const socket = client.stream as Socket & {
    _write: (...a: unknown[]) => void;
    _writev: (chunks: unknown[], cb: unknown) => void;
  };
  const counts = { write: 0, writev: 0, chunks: 0 };
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (this: Socket, ...a: unknown[]) {
    counts.write++;
    counts.chunks++;
    return write.apply(this, a);
  };
  socket._writev = function (this: Socket, chunks: unknown[], cb: unknown) {
    counts.writev++;
    counts.chunks += chunks.length;
    return writev.call(this, chunks, cb);
  };
  return counts;
}

describe('CoalescingRedis', () => {
  it('sends the commands of one turn together, in writes of up to COMMANDS_PER_WRITE, in order, with every reply to its own command', async () => {
    const redis = new CoalescingRedis({ port: server.port, host: '127.0.0.1' });
    const plain = new Redis(server.url);
    try {
      await Promise.all([redis.ping(), plain.ping()]);
      const key = 'coalesce:order';
      const counts = countWrites(redis);
      const replies = await Promise.all(Array.from({ length: 50 }, () => redis.incr(key)));
      expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      // 50 = 6 × 8 + 2: six full writes while the turn goes on, and the last two at its end.
      expect(COMMANDS_PER_WRITE).toBe(8);
      expect(counts).toEqual({ write: 0, writev: 7, chunks: 50 });
      // A turn of fewer commands still leaves in one write.
      const few = countWrites(redis);
      await Promise.all(Array.from({ length: 5 }, () => redis.incr(key)));
      expect(few).toEqual({ write: 0, writev: 1, chunks: 5 });

      // The plain client, for contrast: one write per command.
      const plainCounts = countWrites(plain);
      await Promise.all(Array.from({ length: 5 }, () => plain.incr(key)));
      expect(plainCounts.write + plainCounts.writev).toBe(5);
    } finally {
      redis.disconnect();
      plain.disconnect();
    }
  });

  it('sends a lone command at once, also when issued from an immediate or across a reconnect', async () => {
    const redis = new CoalescingRedis({ port: server.port, host: '127.0.0.1' });
    const admin = new Redis(server.url);
    try {
      await redis.ping();
      for (let i = 0; i < 20; i++) expect(await redis.echo(`n${i}`)).toBe(`n${i}`);
      // Issued during the check phase: its uncork runs in the next turn, which must not wait for I/O.
      const fromImmediate = await new Promise<string>((resolve, reject) =>
        setImmediate(() => redis.echo('from-immediate').then(resolve, reject)),
      );
      expect(fromImmediate).toBe('from-immediate');

      // The server drops the connection with a turn's writes corked: ioredis reconnects and
      // sends that command again, and the next ones go out on the new socket.
      const id = await redis.client('ID');
      const inFlight = redis.echo('in-flight');
      await admin.client('KILL', 'ID', String(id));
      expect(await inFlight).toBe('in-flight');
      expect(await redis.echo('after-reconnect')).toBe('after-reconnect');
      expect(await redis.client('ID')).not.toBe(id);
    } finally {
      redis.disconnect();
      admin.disconnect();
    }
  });

  it('fails a command unanswered for commandTimeout, as ioredis does, with one timer instead of one per command', async () => {
    const redis = new CoalescingRedis({ port: server.port, host: '127.0.0.1', commandTimeout: 300 });
    const admin = new Redis(server.url);
    try {
      await redis.ping();
      // Answered commands: no timer each (ioredis would start 200).
      const realSetTimeout = globalThis.setTimeout;
      let timers = 0;
      globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => {
        timers++;
        return realSetTimeout(...a);
      }) as typeof setTimeout;
      try {
        await Promise.all(Array.from({ length: 200 }, (_, i) => redis.echo(`n${i}`)));
      } finally {
        globalThis.setTimeout = realSetTimeout;
      }
      expect(timers).toBeLessThanOrEqual(1);

      // The server holds every client's commands for 1.2 s: ours fail after 300-600 ms.
      await admin.client('PAUSE', 1200, 'ALL');
      const t0 = Date.now();
      const held = Promise.allSettled([redis.get('k1'), redis.get('k2')]);
      const late = await new Promise<PromiseSettledResult<unknown>[]>((r) =>
        setTimeout(() => Promise.allSettled([redis.get('k3')]).then(r), 100),
      );
      const [a, b] = await held;
      const elapsed = Date.now() - t0;
      for (const r of [a, b, late[0]]) {
        expect(r!.status).toBe('rejected');
        expect(String((r as PromiseRejectedResult).reason)).toContain('Command timed out');
      }
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1100);
      // The connection goes on once the server answers again.
      await new Promise((r) => setTimeout(r, 1200));
      expect(await redis.echo('after')).toBe('after');
      // BullMQ's duplicates are plain clients with ioredis's own timeout.
      const dup = redis.duplicate();
      expect(dup).not.toBeInstanceOf(CoalescingRedis);
      expect(dup.options.commandTimeout).toBe(300);
      dup.disconnect();
    } finally {
      redis.disconnect();
      admin.disconnect();
    }
  });

  it('holds commands back only from holdFromInFlight commands awaiting replies (workers)', async () => {
    const redis = new CoalescingRedis({ port: server.port, host: '127.0.0.1' }, { holdFromInFlight: 16 });
    try {
      await redis.ping();
      const key = 'coalesce:in-flight';
      // Few in flight: each is written at once, as on a plain client.
      const few = countWrites(redis);
      expect(await Promise.all(Array.from({ length: 5 }, () => redis.incr(key)))).toEqual([1, 2, 3, 4, 5]);
      expect(few).toEqual({ write: 5, writev: 0, chunks: 5 });
      // 40 in one turn: the first 16 at once, then with 16 awaiting replies the rest in writes of 8.
      const many = countWrites(redis);
      const replies = await Promise.all(Array.from({ length: 40 }, () => redis.incr(key)));
      expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => i + 6));
      expect(many).toEqual({ write: 16, writev: 3, chunks: 40 });
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a holdFromInFlight that is not a whole number >= 0', () => {
    for (const holdFromInFlight of [-1, 1.5, Number.NaN])
      expect(() => new CoalescingRedis({ lazyConnect: true }, { holdFromInFlight })).toThrow(
        /holdFromInFlight must be a whole number >= 0/,
      );
  });

  it('is what both roles get: the API holds back every turn, a worker only with 16 in flight', async () => {
    const settings = { url: server.url, prefix: 'coalesce' };
    const api = createRedisConnection(settings, 'api') as Redis;
    const worker = createRedisConnection(settings, 'worker') as Redis;
    try {
      expect(api).toBeInstanceOf(CoalescingRedis);
      expect(worker).toBeInstanceOf(CoalescingRedis);
      // The API's connection has no offline queue: wait until both are up.
      await Promise.all(
        [api, worker].map((c) => (c.status === 'ready' ? undefined : new Promise((r) => c.once('ready', r)))),
      );
      const apiCounts = countWrites(api);
      const workerCounts = countWrites(worker);
      await Promise.all([
        ...Array.from({ length: 3 }, () => api.incr('coalesce:roles')),
        ...Array.from({ length: 3 }, () => worker.incr('coalesce:roles')),
      ]);
      expect(apiCounts).toEqual({ write: 0, writev: 1, chunks: 3 });
      expect(workerCounts).toEqual({ write: 3, writev: 0, chunks: 3 });
      const workerMany = countWrites(worker);
      await Promise.all(Array.from({ length: 24 }, () => worker.incr('coalesce:roles')));
      expect(workerMany).toEqual({ write: 16, writev: 1, chunks: 24 });
      // BullMQ's blocking connection is a duplicate: a plain client, never held back.
      const blocking = worker.duplicate();
      expect(blocking).not.toBeInstanceOf(CoalescingRedis);
      blocking.disconnect();
    } finally {
      api.disconnect();
      worker.disconnect();
    }
  });
});
