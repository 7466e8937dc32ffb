import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Options for a throwaway `redis-server` owned by a test. */
export interface RedisServerOptions {
  /** Loopback port; a free one is picked when left out. */
  port?: number;
  /** Turn AOF on (tests about persistence); off by default. */
  appendonly?: boolean;
  /** `appendfsync` when AOF is on. @defaultValue 'always' */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Data directory; a fresh temporary one by default (removed by `stop({ removeData: true })`). */
  dir?: string;
  /** Extra `--name value` arguments. */
  extraArgs?: string[];
}

/** A `redis-server` process a test started and must stop. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly process: ChildProcess;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(opts?: { removeData?: boolean }): Promise<void>;
  /** Start again on the same port and data directory (after kill or stop). */
  restart(): Promise<RedisServer>;
}

/** Where `redis-server` is, or undefined. */
export function findRedisServerBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `redis-server` on a loopback port and resolves once it answers PING.
 * Throws a message that says how to install it when the binary is missing.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServerBinary();
  if (!binary) {
    throw new Error(
      'redis-server was not found on PATH. Install it (Debian/Ubuntu: apt-get install -y redis-server; ' +
        'macOS: brew install redis), start a Docker engine, or set REDIS_URL to a Redis the tests may use.',
    );
  }
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'solar-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--appendfsync',
    options.appendfsync ?? 'always',
    '--hz',
    '100',
    '--protected-mode',
    'yes',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  child.stderr?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  const url = `redis://127.0.0.1:${port}`;
  await waitForPing(url, child, () => output);

  const server: RedisServer = {
    url,
    port,
    dir,
    process: child,
    kill: () => signalAndWait(child, 'SIGKILL'),
    async stop(opts = {}) {
      await signalAndWait(child, 'SIGTERM');
      if (opts.removeData) rmSync(dir, { recursive: true, force: true });
    },
    restart: () => startRedisServer({ ...options, port, dir }),
  };
  return server;
}

async function waitForPing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`redis-server exited with ${child.exitCode} before answering:\n${output()}`);
    }
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    let refusedAuth = false;
    // A server whose default user is off or has a password answers NOAUTH: it is up.
    client.on('error', (err: Error) => {
      if (/^(NOAUTH|WRONGPASS)/.test(err.message)) refusedAuth = true;
    });
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      if (refusedAuth) return;
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on ${url} did not answer PING within 10 s:\n${output()}`);
}

function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
