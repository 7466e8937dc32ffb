import { testRedisUrl } from '@solar-tasks/testing';
import { Command, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { CoalescingRedis } from './coalescing-redis.js';
import { redisOptions } from './redis-connection.js';
import { type CommandClass, cheaplyFlattened, flatArguments } from './script-commands.js';

/** Counts `Array#flat` calls while a test runs. */
const flat = Array.prototype.flat;
let flatCalls = 0;
function countFlat() {
  flatCalls = 0;
  Array.prototype.flat = function counted(this: unknown[], ...a: [number?]) {
    flatCalls++;
    return flat.apply(this, a);
  } as typeof flat;
}
afterEach(() => {
  Array.prototype.flat = flat;
});

describe('cheaplyFlattened', () => {
  it('builds the same command as ioredis, without Array#flat', () => {
    const Cheap = cheaplyFlattened(Command as unknown as CommandClass);
    countFlat();
    const plain = new Cheap('evalsha', ['sha', '1', 'key', Buffer.from([1, 2]), 'x']);
    expect(flatCalls).toBe(0);
    const nested = new Cheap('evalsha', ['sha', '0', ['a', ['b']], 'c']);
    expect(flatCalls).toBe(0);
    Array.prototype.flat = flat;
    expect(plain.args).toEqual(new Command('evalsha', ['sha', '1', 'key', Buffer.from([1, 2]), 'x']).args);
    expect(nested.args).toEqual(new Command('evalsha', ['sha', '0', ['a', ['b']], 'c']).args);
    // The command's own copy: the array it was built from is not kept.
    const args = ['sha', '0', 'k'];
    expect(new Cheap('evalsha', args).args).not.toBe(args);
  });
});

// The run's shared Redis: the scripts only echo their arguments, nothing is written.
describe('a CoalescingRedis connection’s scripts', () => {
  it('are built without Array#flat (a plain client’s with it), alone and in a pipeline, with the same replies', async () => {
    const redis = new CoalescingRedis(
      redisOptions({ url: testRedisUrl(), prefix: 'script-commands' }, 'worker'),
    );
    const plain = new Redis(testRedisUrl());
    type Echo = { echoArgs(key: string, ...args: unknown[]): Promise<string[]> };
    try {
      const lua = 'return {KEYS[1], unpack(ARGV)}';
      redis.defineCommand('echoArgs', { numberOfKeys: 1, lua });
      plain.defineCommand('echoArgs', { numberOfKeys: 1, lua });
      await Promise.all([redis.ping(), plain.ping()]);

      countFlat();
      expect(await (redis as unknown as Echo).echoArgs('k', 'a', 'b')).toEqual(['k', 'a', 'b']);
      expect(flatCalls).toBe(0);
      type Piped = { echoArgs(key: string, ...args: unknown[]): Piped; exec(): Promise<unknown> };
      const piped = await (redis.pipeline() as unknown as Piped).echoArgs('k', 'p').exec();
      expect(piped).toEqual([[null, ['k', 'p']]]);
      expect(flatCalls).toBe(0);
      // An array argument is still flattened one level, as ioredis does.
      expect(await (redis as unknown as Echo).echoArgs('k', ['a', 'b'], 'c')).toEqual(['k', 'a', 'b', 'c']);
      expect(flatCalls).toBe(0);

      countFlat();
      expect(await (plain as unknown as Echo).echoArgs('k', 'a', 'b')).toEqual(['k', 'a', 'b']);
      expect(flatCalls).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
      plain.disconnect();
    }
  });
});

describe('flatArguments', () => {
  it('equals Array#flat (one level) on flat, nested, empty and sparse arrays', () => {
    // biome-ignore lint/suspicious/noSparseArray: holes are what this checks
    const sparse = [1, , 3];
    const cases: unknown[][] = [
      [],
      ['a', 1, Buffer.from('x')],
      ['sha', 3, ['k1', 'k2', 'k3', 'a', Buffer.from([0])]],
      [['a'], [], [['deep']], 'b', [undefined, null]],
      sparse,
      ['x', sparse],
    ];
    for (const c of cases) expect(flatArguments(c)).toEqual(c.flat());
  });
});
