import { setTimeout as sleep } from 'node:timers/promises';
import { type Stack, startStack } from '@solar-tasks/api/test-support';
import {
  cleanUp,
  REPLICATION_ARGS,
  type RedisServer,
  type SentinelGroupHandle,
  startRedisServer,
  startSentinelGroup,
  waitFor,
} from '@solar-tasks/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let group: SentinelGroupHandle;
let stack: Stack;
let replacement: RedisServer | undefined;

beforeAll(async () => {
  group = await startSentinelGroup({ replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
  stack = await startStack(
    { sentinels: group.sentinelEndpoints, sentinelName: group.name },
    // An enqueue is acknowledged only once the replica has it: that is what
    // makes "no acknowledged task is lost" hold through a failover.
    { waitReplicas: 1, waitTimeoutMs: 500, lockDurationMs: 5000, stalledIntervalMs: 1000 },
  );
});

afterAll(() =>
  cleanUp([() => stack?.close(), () => replacement?.stop({ removeData: true }), () => group?.stop()]),
);

describe('with a master, a replica and 3 sentinels', () => {
  it('fails over when the master dies mid-run; API and worker follow the new master and no acknowledged task is lost', async () => {
    const acked: string[] = [];
    let refused = 0;
    let lastRefusal = '';
    let killedAt: number | undefined;
    let firstAckAfterKill: number | undefined;
    let firstCompletionAfterKill: number | undefined;
    // Tasks queued on the new master: the first of them to complete shows the workers followed it.
    const ackedAfterKill = new Set<string>();
    stack.worker.on('task:completed', ({ taskId }) => {
      if (ackedAfterKill.has(taskId) && !firstCompletionAfterKill) firstCompletionAfterKill = Date.now();
    });

    let producing = true;
    const producer = (async () => {
      while (producing) {
        const sentAt = Date.now();
        const res = await stack
          .call('POST', '/api/tasks/enqueue/', { task_name: 'sleep_ms', args: [20] })
          .catch(() => undefined);
        if (res?.status === 201) {
          const { task_id } = (await res.json()) as { task_id: string };
          acked.push(task_id);
          if (killedAt && sentAt > killedAt) ackedAfterKill.add(task_id);
          // The first acknowledgement of a request sent after the master died.
          if (killedAt && sentAt > killedAt && !firstAckAfterKill) firstAckAfterKill = Date.now();
        } else {
          lastRefusal = res ? `${res.status} ${await res.text()}` : 'no response';
          refused++;
          // Pace the retries of a client facing 503s (load shaping, not a wait for state).
          await sleep(20);
        }
      }
    })();

    await waitFor('30 tasks are acknowledged before the failure', () => acked.length >= 30, {
      timeoutMs: 20_000,
    });
    const oldPort = group.master.port;
    const ackedBeforeKill = acked.length;
    killedAt = Date.now();
    await group.master.kill();

    const newPort = await waitFor(
      'the sentinels promote the replica to master',
      async () => {
        const port = await group.masterPort();
        return port !== undefined && port !== oldPort ? port : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const promotedAt = Date.now();
    expect(newPort).toBe(group.replicas[0]!.port);
    // With its only replica promoted, the new master has none: enqueues are
    // refused (WAIT 1 cannot succeed) until a replacement replica joins, as
    // an orchestrator would start one. Nothing unreplicated is acknowledged.
    replacement = await startRedisServer({
      extraArgs: [...REPLICATION_ARGS, '--replicaof', '127.0.0.1', String(newPort)],
    });
    const replacementAt = Date.now();

    await waitFor(
      'enqueues are acknowledged again after the failover',
      () => firstAckAfterKill !== undefined,
      { timeoutMs: 30_000 },
    ).catch(async (err: Error) => {
      // Say why: what the API answered, and what the new master knows of its replicas.
      const probe = new Redis(newPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      const replication = await probe
        .connect()
        .then(() => probe.info('replication'))
        .catch((e: Error) => e.message);
      probe.disconnect();
      throw new Error(
        `${err.message}\nlast refusal: ${lastRefusal}\nconnection status: api ${stack.redis.api.status}, worker ${stack.redis.worker.status}\nmaster per sentinels: ${await group.masterPort()}\n${replication}`,
      );
    });
    const ackedAtRecovery = acked.length;
    await waitFor(
      '30 more tasks are acknowledged on the new master',
      () => acked.length >= ackedAtRecovery + 30,
      {
        timeoutMs: 20_000,
      },
    );
    producing = false;
    await producer;

    const missing = await waitFor(
      'every acknowledged task completes',
      async () => {
        const statuses = await Promise.all(
          acked.map((id) => stack.queue.getStatus(id).catch(() => undefined)),
        );
        const notDone = acked.filter((_, i) => statuses[i]?.status !== 'completed');
        return notDone.length === 0 ? [] : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(missing).toEqual([]);
    expect(firstCompletionAfterKill).toBeDefined();

    const report = {
      acknowledged_before_kill: ackedBeforeKill,
      acknowledged_total: acked.length,
      refused_during_failover: refused,
      promoted_after_ms: promotedAt - killedAt,
      replacement_replica_started_after_ms: replacementAt - killedAt,
      first_ack_after_kill_ms: firstAckAfterKill! - killedAt,
      first_new_task_completed_after_kill_ms: firstCompletionAfterKill! - killedAt,
    };
    console.info(`[sentinel failover] ${JSON.stringify(report)}`);
  });
});
