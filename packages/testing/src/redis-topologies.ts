import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { findRedisServerBinary, freePort, type RedisServer, startRedisServer } from './redis-server.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** A host:port pair as the queue's settings take it. */
export interface Endpoint {
  host: string;
  port: number;
}

/** A Redis Cluster of throwaway `redis-server`s on loopback ports. */
export interface RedisClusterHandle {
  /** Every master (the cluster has no replicas). */
  readonly nodes: RedisServer[];
  readonly endpoints: Endpoint[];
  stop(): Promise<void>;
}

/** Asks one server a command on a short-lived connection. */
async function ask(port: number, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `masters` cluster-enabled servers, joins them with
 * `redis-cli --cluster create` and resolves once every node reports
 * `cluster_state:ok` and knows all the others.
 */
export async function startRedisCluster({
  masters = 3,
}: {
  masters?: number;
} = {}): Promise<RedisClusterHandle> {
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop({ removeData: true })));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedisServer({
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    await waitFor(
      'every cluster node reports cluster_state:ok and knows every node',
      async () => {
        for (const n of nodes) {
          const info = String(await ask(n.port, 'CLUSTER', 'INFO'));
          if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${masters}`))
            return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    return { nodes, endpoints: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A `redis-server --sentinel` process. */
export interface SentinelProcess {
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** A master, its replicas and the sentinels watching them. */
export interface SentinelGroupHandle {
  /** The master group name the sentinels monitor. */
  readonly name: string;
  readonly master: RedisServer;
  readonly replicas: RedisServer[];
  readonly sentinels: SentinelProcess[];
  readonly sentinelEndpoints: Endpoint[];
  /** The master's port according to the first sentinel that answers. */
  masterPort(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Options of {@link startSentinelGroup}. */
export interface SentinelGroupOptions {
  /** @defaultValue 1 */
  replicas?: number;
  /** @defaultValue 3 */
  sentinels?: number;
  /** Sentinel `down-after-milliseconds`: how long a silent master takes to be judged down. @defaultValue 1000 */
  downAfterMs?: number;
  /** Sentinel `failover-timeout`. @defaultValue 3000 */
  failoverTimeoutMs?: number;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

async function startSentinel(masterPort: number, name: string, opts: Required<SentinelGroupOptions>) {
  const binary = findRedisServerBinary();
  if (!binary) throw new Error('redis-server was not found on PATH (apt-get install -y redis-server)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'solar-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  // Sentinels rewrite their config file as they learn the topology: it must be writable.
  writeFileSync(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${Math.floor(opts.sentinels / 2) + 1}`,
      `sentinel down-after-milliseconds ${name} ${opts.downAfterMs}`,
      `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, [config, '--sentinel'], { stdio: 'ignore' });
  await waitFor(`sentinel on port ${port} answers`, async () => {
    if (child.exitCode !== null) throw new Error(`sentinel exited with ${child.exitCode}`);
    return (await ask(port, 'PING').catch(() => '')) === 'PONG';
  });
  const sentinel: SentinelProcess = {
    port,
    process: child,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sentinel;
}

/**
 * Servers of a replicated group: a full sync starts at once instead of after
 * the default 5 s diskless-sync delay (which waits for more replicas to join).
 */
export const REPLICATION_ARGS = ['--repl-diskless-sync-delay', '0'];

/**
 * Starts a master, `replicas` replicas of it and `sentinels` sentinels
 * (quorum: a majority) on loopback ports, and resolves once every sentinel
 * sees the master, every replica in sync, and every other sentinel: only
 * then can they agree on a failover.
 */
export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<SentinelGroupHandle> {
  const opts: Required<SentinelGroupOptions> = {
    replicas: 1,
    sentinels: 3,
    downAfterMs: 1000,
    failoverTimeoutMs: 3000,
    ...options,
  };
  const name = 'solar-master';
  const servers: RedisServer[] = [];
  const sentinels: SentinelProcess[] = [];
  const stop = async () => {
    await Promise.all(sentinels.map((s) => s.stop()));
    await Promise.all(servers.map((s) => s.stop({ removeData: true })));
  };
  try {
    const master = await startRedisServer({ extraArgs: REPLICATION_ARGS });
    servers.push(master);
    const replicas: RedisServer[] = [];
    for (let i = 0; i < opts.replicas; i++) {
      const replica = await startRedisServer({
        extraArgs: [...REPLICATION_ARGS, '--replicaof', '127.0.0.1', String(master.port)],
      });
      servers.push(replica);
      replicas.push(replica);
    }
    await waitFor(
      'every replica is in sync with the master',
      async () => {
        const info = String(await ask(master.port, 'INFO', 'replication'));
        return (info.match(/state=online/g) ?? []).length === opts.replicas;
      },
      { timeoutMs: 15_000 },
    );
    for (let i = 0; i < opts.sentinels; i++) sentinels.push(await startSentinel(master.port, name, opts));
    await waitFor(
      'every sentinel knows the replicas and the other sentinels',
      async () => {
        for (const s of sentinels) {
          const [others, seen] = await Promise.all([
            ask(s.port, 'SENTINEL', 'SENTINELS', name) as Promise<unknown[]>,
            ask(s.port, 'SENTINEL', 'REPLICAS', name) as Promise<unknown[]>,
          ]);
          if (others.length !== opts.sentinels - 1 || seen.length !== opts.replicas) return false;
        }
        return true;
      },
      // Sentinels find each other through hello messages sent every 2 s.
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    return {
      name,
      master,
      replicas,
      sentinels,
      sentinelEndpoints: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      async masterPort() {
        for (const s of sentinels) {
          const addr = (await ask(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(() => null)) as
            | string[]
            | null;
          if (addr?.[1]) return Number(addr[1]);
        }
        return undefined;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
