import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskCatalog } from '@solar-tasks/contract';
import type { RedisClient } from '@solar-tasks/queue';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import {
  freePort,
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
  uniquePrefix,
  waitFor,
} from '@solar-tasks/testing';
import { runsKey, testRegistry } from '@solar-tasks/worker/test-fixtures';
import { onTestFailed } from 'vitest';
import { type ServiceProcess, spawnService } from './service-process.js';

/** The API key the API fixture accepts. */
export const FAULT_API_KEY = 'fault-suite-key-0123456789';

/** A running API fixture and a client for it. */
export interface ApiHandle {
  proc: ServiceProcess;
  baseUrl: string;
  /** `fetch` with the API key; never waits longer than `timeoutMs`. */
  call(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<Response>;
}

/** One fault test's world: its own redis-server, a key prefix, and the processes it started. */
export interface FaultStack {
  /** The redis-server (replaced by {@link FaultStack.restartRedis}). */
  readonly server: RedisServer;
  readonly url: string;
  readonly prefix: string;
  /** A `worker`-role client in the test process: it rides out Redis restarts. */
  readonly redis: RedisClient;
  /** The test tasks' queue, for enqueueing directly and reading states. */
  readonly queue: TaskQueue;
  readonly catalog: TaskCatalog;
  /** Every process started so far (dead ones included). */
  readonly processes: ServiceProcess[];
  /** Starts a worker fixture; `env` adds or overrides settings. */
  spawnWorker(env?: Record<string, string>): ServiceProcess;
  /** Starts an API fixture on a free port and resolves once it answers `/healthz`. */
  spawnApi(env?: Record<string, string>): Promise<ApiHandle>;
  /** Resolves once a worker process with each pid is registered with BullMQ (connected, consuming). */
  waitForWorkers(pids: number[], timeoutMs?: number): Promise<void>;
  /** Runs counted by `record_run` / `poison`: task id → runs. */
  runs(): Promise<Map<string, number>>;
  /** Starts redis-server again on the same port and data directory (after a kill). */
  restartRedis(): Promise<void>;
  /** Redis `used_memory`, bytes. */
  usedMemory(): Promise<number>;
}

/**
 * Sets a fault test up: a fresh redis-server (options for AOF and the like),
 * a unique prefix, and a queue client. Everything is stopped and removed after
 * the test; when the test fails, the last output of each process is printed.
 */
export async function setupFaultStack(
  cleanups: (() => Promise<void>)[],
  options: { redis?: RedisServerOptions; retentionDays?: number } = {},
): Promise<FaultStack> {
  let server = await startRedisServer(options.redis);
  const url = server.url;
  const prefix = uniquePrefix('fault');
  const dataDir = mkdtempSync(join(tmpdir(), 'solar-fault-'));
  const redis = createRedisConnection({ url, prefix }, 'worker');
  const { catalog } = testRegistry();
  const queue = new TaskQueue({ connection: redis, prefix, catalog, retentionDays: options.retentionDays });
  await queue.waitUntilReady();
  const processes: ServiceProcess[] = [];

  cleanups.push(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await queue.close().catch(() => {});
    redis.disconnect();
    await server.stop({ removeData: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  onTestFailed(() => {
    for (const p of processes) {
      console.error(`--- last output of ${p.kind} ${p.pid} (${p.alive() ? 'alive' : 'exited'}) ---`);
      console.error(p.output().slice(-40).join('\n'));
    }
  });

  const baseEnv = (): Record<string, string> => ({
    REDIS_URL: url,
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
  });

  const stack: FaultStack = {
    get server() {
      return server;
    },
    url,
    prefix,
    redis,
    queue,
    catalog,
    processes,
    spawnWorker(env = {}) {
      const proc = spawnService('worker', { ...baseEnv(), ...env });
      processes.push(proc);
      return proc;
    },
    async spawnApi(env = {}) {
      const port = await freePort();
      const proc = spawnService('api', {
        ...baseEnv(),
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEYS: `fault:${FAULT_API_KEY}`,
        ...env,
      });
      processes.push(proc);
      const baseUrl = `http://127.0.0.1:${port}`;
      await waitFor(
        `the API process answers /healthz on ${baseUrl}`,
        async () => {
          if (!proc.alive()) throw new Error(`the API exited:\n${proc.output().join('\n')}`);
          return (await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      return {
        proc,
        baseUrl,
        call: (method, path, body, timeoutMs = 5000) =>
          fetch(`${baseUrl}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${FAULT_API_KEY}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(timeoutMs),
          }),
      };
    },
    async waitForWorkers(pids, timeoutMs = 30_000) {
      const bull = queue.bullQueue('default');
      await waitFor(
        `worker processes ${pids.join(', ')} are consuming`,
        async () => {
          const dead = processes.filter((p) => pids.includes(p.pid) && !p.alive());
          if (dead.length > 0)
            throw new Error(`worker ${dead[0]!.pid} exited:\n${dead[0]!.output().join('\n')}`);
          const names = (await bull.getWorkers()).map((w) => w.rawname ?? '');
          return pids.every((pid) => names.some((n) => n.endsWith(`solar-worker-${pid}`)));
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
    async runs() {
      const raw = await redis.hgetall(runsKey(prefix));
      return new Map(Object.entries(raw).map(([id, n]) => [id, Number(n)]));
    },
    async restartRedis() {
      server = await server.restart();
    },
    async usedMemory() {
      const info = await redis.info('memory');
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
    },
  };
  return stack;
}

/** Resolves after `ms` (pacing a harness loop, never to wait for a result). */
export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Summary figures of a list of numbers. */
export function summarize(values: number[]): { n: number; min: number; p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, min: sorted[0] ?? Number.NaN, p50: at(0.5), max: sorted.at(-1) ?? Number.NaN };
}

/** Prints one line of measured figures that the docs quote (`[fault report] name {...}`). */
export function report(name: string, figures: Record<string, unknown>): void {
  console.log(`[fault report] ${name} ${JSON.stringify(figures)}`);
}
