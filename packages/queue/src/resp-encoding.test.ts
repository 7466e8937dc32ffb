import { type RedisServer, startRedisServer } from '@solar-tasks/testing';
import { Command, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// ioredis's own encoder, counted, before anything in this file installs ours over it: the
// encoder keeps whatever `toWritable` it finds as the one it hands unmarked commands to.
const ioredisToWritable = Command.prototype.toWritable;
let ioredisCalls = 0;
Command.prototype.toWritable = function counted(this: Command, socket: object) {
  ioredisCalls++;
  return ioredisToWritable.call(this, socket);
};
const { encodeCommand, useFastEncoding } = await import('./resp-encoding.js');
const { CoalescingRedis } = await import('./coalescing-redis.js');

/** ioredis's bytes for `command`, from its own encoder. */
function ioredisBytes(command: Command): Buffer {
  const out = ioredisToWritable.call(command, {});
  return typeof out === 'string' ? Buffer.from(out, 'utf8') : out;
}

/** The name and arguments as ioredis holds them once it has built the command (what the encoder gets). */
function built(command: Command): [string, unknown[]] {
  return [command.name, command.args];
}

/** A small deterministic generator (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  // ASCII, Latin-1, CJK, an astral character, a lone surrogate (encoded as U+FFFD by both).
  const alphabet = ['a', 'Z', '0', ' ', '\r', '\n', '$', '*', 'é', 'ÿ', '漢', '😀', '\ud800'];
  const text = (max: number) =>
    Array.from({ length: int(max + 1) }, () => alphabet[int(alphabet.length)]).join('');
  const bytes = (max: number) => Buffer.from(Array.from({ length: int(max + 1) }, () => int(256)));
  return { int, text, bytes };
}

describe('encodeCommand', () => {
  it('makes the same bytes as ioredis for every mix of strings and buffers (2,000 seeded commands)', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const r = random(seed);
      const args = Array.from({ length: r.int(16) }, () =>
        r.int(3) === 0 ? r.bytes(r.int(2) === 0 ? 3 : 300) : r.text(r.int(2) === 0 ? 3 : 300),
      );
      const command = new Command(['evalsha', 'set', 'hset', 'xadd'][r.int(4)]!, args);
      const ours = encodeCommand(...built(command));
      expect(ours, `seed ${seed}`).toBeInstanceOf(Buffer);
      expect(ours!.equals(ioredisBytes(command)), `seed ${seed}`).toBe(true);
    }
  });

  it('encodes empty strings and empty buffers as empty bulk strings, and a command with no arguments', () => {
    const ours = encodeCommand('evalsha', ['', Buffer.alloc(0), 'x']);
    expect(ours!.toString('latin1')).toBe('*4\r\n$7\r\nevalsha\r\n$0\r\n\r\n$0\r\n\r\n$1\r\nx\r\n');
    expect(encodeCommand('ping', [])!.toString()).toBe('*1\r\n$4\r\nping\r\n');
  });

  it('leaves an argument that is neither a string nor a buffer to ioredis', () => {
    expect(encodeCommand('set', ['k', 1 as unknown as string])).toBeUndefined();
  });

  it('takes over only marked commands that carry a buffer; every other command keeps ioredis’s encoder', () => {
    const marked = new Command('evalsha', ['sha', '1', Buffer.from([0, 255]), 'é']);
    useFastEncoding(marked);
    let before = ioredisCalls;
    const bytes = marked.toWritable({});
    expect(ioredisCalls).toBe(before);
    expect(Buffer.from(bytes).equals(ioredisBytes(marked))).toBe(true);

    // Strings only: ioredis's string path is already one join, so it keeps it.
    const text = new Command('set', ['k', 'v']);
    useFastEncoding(text);
    before = ioredisCalls;
    expect(text.toWritable({})).toBe('*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n');
    expect(ioredisCalls).toBe(before + 1);

    // Not marked (another client's command): ioredis's encoder.
    const other = new Command('evalsha', ['sha', '0', Buffer.from([1])]);
    before = ioredisCalls;
    other.toWritable({});
    expect(ioredisCalls).toBe(before + 1);
  });
});

// Its own server: the test flushes the script cache, which the run's shared Redis serves to every test.
describe('a CoalescingRedis connection on the fast encoder', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop({ removeData: true });
  });

  it('round-trips binary and UTF-8 arguments through a script: EVAL on first use, EVALSHA after, EVAL again after SCRIPT FLUSH', async () => {
    const redis = new CoalescingRedis({ port: server.port, host: '127.0.0.1' });
    const plain = new Redis(server.url);
    try {
      redis.defineCommand('echoArgs', { numberOfKeys: 1, lua: 'return {KEYS[1], ARGV[1], ARGV[2]}' });
      const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const text = 'Ärger 漢字 😀';
      const call = () =>
        (
          redis as unknown as {
            echoArgsBuffer(k: string, a: Buffer, b: string): Promise<Buffer[]>;
          }
        ).echoArgsBuffer('key:é', binary, text);
      const commandsBefore = await commandCounts(plain);
      for (let i = 0; i < 3; i++) {
        const [key, a, b] = await call();
        expect(key!.toString('utf8')).toBe('key:é');
        expect(a!.equals(binary)).toBe(true);
        expect(b!.toString('utf8')).toBe(text);
      }
      await plain.script('FLUSH');
      const [, afterFlush] = await call();
      expect(afterFlush!.equals(binary)).toBe(true);
      const commandsAfter = await commandCounts(plain);
      // First use: EVAL. Then EVALSHA twice, then once more (NOSCRIPT after the flush) and an EVAL.
      expect(commandsAfter.eval - commandsBefore.eval).toBe(2);
      expect(commandsAfter.evalsha - commandsBefore.evalsha).toBe(3);
    } finally {
      redis.disconnect();
      plain.disconnect();
    }
  });
});

/** Calls of EVAL and EVALSHA the server has answered (INFO commandstats). */
async function commandCounts(redis: Redis): Promise<{ eval: number; evalsha: number }> {
  const info = await redis.info('commandstats');
  const calls = (name: string) =>
    Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { eval: calls('eval'), evalsha: calls('evalsha') };
}
