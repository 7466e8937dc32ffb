// `pnpm bench`: our worker and API side by side with raw BullMQ, on a
// redis-server the bench starts, alternating, several rounds. Writes
// bench/results/latest.json and SVG charts, prints a table. BENCH_QUICK=1 is
// a short smoke run (CI); see docs/performance.md for the method.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// The one constant, not the API itself: this process only launches it.
import { API_NODE_OPTIONS } from '@solar-tasks/api/node-options';
import { TaskQueue } from '@solar-tasks/queue';
import { type RedisServer, startRedisServer } from '@solar-tasks/testing';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import {
  API_KEY,
  type ChildMessage,
  cpuMeter,
  cpuSecondsOf,
  latencySummary,
  medianCpu,
  memoryOf,
  now,
  PREFIX,
  pairedRatio,
  QUEUE,
  RAW_JOB_OPTIONS,
  round,
  roundRatios,
  type Summary,
  sleep,
  summarize,
} from './common.js';
import { barChart, OURS, RAW } from './svg.js';
import { oursQueue, oursWorker, rawQueue, rawWorker } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));
const benchDir = resolve(here, '..');
const QUICK = process.env.BENCH_QUICK === '1';
/** Every size a `BENCH_*` variable sets, with its defaults (listed by `pnpm bench --help`). */
const sizes: { name: string; full: number; quick: number }[] = [];
const num = (name: string, full: number, quick: number) => {
  sizes.push({ name, full, quick });
  return process.env[name] ? Number(process.env[name]) : QUICK ? quick : full;
};

/** Sizes of the run: the full bench, or the quick smoke (BENCH_QUICK=1). */
export const config = {
  /**
   * Rounds of worker throughput at concurrency 50, where the floor is: single drains
   * move by up to 40% on these VMs, at random from one drain to the next, and a
   * median of seven paired rounds still swung between 0.83 and 0.99 from run to
   * run. Concurrency 1 and 10 (reported, no floor) get fewer.
   */
  rounds: num('BENCH_ROUNDS', 11, 1),
  roundsOtherConcurrencies: num('BENCH_ROUNDS_OTHER', 2, 1),
  workerTasks: num('BENCH_TASKS', 20_000, 1500),
  workerTasksC1: num('BENCH_TASKS_C1', 3000, 400),
  concurrencies: [1, 10, 50],
  httpRounds: num('BENCH_HTTP_ROUNDS', 4, 1),
  httpSeconds: num('BENCH_HTTP_SECONDS', 10, 1),
  /** Seconds of load each API gets before the HTTP rounds, not counted (JIT warm-up). */
  httpWarmupSeconds: num('BENCH_HTTP_WARMUP_SECONDS', 3, 0),
  httpConnections: num('BENCH_HTTP_CONNECTIONS', 50, 10),
  bulkBatch: num('BENCH_BULK_BATCH', 500, 100),
  bulkConnections: 10,
  bulkSeconds: num('BENCH_BULK_SECONDS', 3, 1),
  latencyRate: 500,
  /** Alternating rounds of the latency run, and seconds of each side in each. */
  latencyRounds: num('BENCH_LATENCY_ROUNDS', 5, 2),
  latencySeconds: num('BENCH_LATENCY_SECONDS', 3, 1),
  /** Seconds of the same load each side gets before the latency run, not counted (JIT warm-up). */
  latencyWarmupSeconds: num('BENCH_LATENCY_WARMUP_SECONDS', 4, 0.5),
  delayedTasks: num('BENCH_DELAYED_TASKS', 500, 50),
  scaleTasks: num('BENCH_SCALE_TASKS', 12_000, 1500),
  /** Tasks per worker process drained before each scaling point's counted drain, not counted (JIT warm-up). */
  scaleWarmupTasks: num('BENCH_SCALE_WARMUP_TASKS', 2000, 200),
  scaleWorkers: QUICK ? [1, 2] : [1, 2, 4],
  scaleConcurrency: 50,
};
const resultsDir = resolve(process.env.BENCH_RESULTS_DIR ?? join(benchDir, 'results'));
/**
 * The run's log files (each process logs as deployed, at info: ~150 MB in a
 * full run), made on first use and removed when the run has finished, unless
 * BENCH_KEEP_LOGS=1 (a failed run keeps them).
 */
let work: string | undefined;
function logFile(name: string): string {
  if (work === undefined) work = mkdtempSync(join(tmpdir(), 'solar-bench-'));
  return join(work, `${name}.log`);
}
const KEEP_LOGS = process.env.BENCH_KEEP_LOGS === '1';

const benchStarted = Date.now();
/** A progress line, with the seconds since the bench started (where a run spends its time). */
function log(line: string): void {
  process.stderr.write(`[bench ${Math.round((Date.now() - benchStarted) / 1000)} s] ${line}\n`);
}

// ---------------------------------------------------------------- processes

interface Child {
  proc: ChildProcess;
  ready: Promise<ChildMessage & { type: 'ready' }>;
  next(type: ChildMessage['type']): Promise<ChildMessage>;
  send(m: { type: string }): void;
  stop(): Promise<void>;
}

function child(script: string, args: string[], nodeOptions: readonly string[] = []): Child {
  const proc = spawn(
    process.execPath,
    [...nodeOptions, '--import', 'tsx', '--conditions=@solar-tasks/source', join(here, script), ...args],
    {
      cwd: benchDir,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const waiters: { type: string; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }[] = [];
  proc.on('message', (m: ChildMessage) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
  });
  proc.once('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${script} exited (${code}) before "${w.type}"`));
  });
  const next = (type: ChildMessage['type']) =>
    new Promise<ChildMessage>((resolveP, reject) => {
      waiters.push({ type, resolve: resolveP, reject });
    });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    ready: next('ready') as Promise<ChildMessage & { type: 'ready' }>,
    next,
    send: (m) => proc.send(m),
    async stop() {
      if (proc.exitCode !== null) return;
      proc.send({ type: 'stop' });
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------- helpers

let redis: RedisServer;
let ctl: Redis;

async function until(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await done())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out: ${what}`);
    await sleep(2);
  }
}

async function usedMemory(): Promise<number> {
  const info = await ctl.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
}

/** Fills our queue with `n` no-op tasks (through our bulk enqueue: our job shape). */
async function fillOurs(n: number): Promise<void> {
  const { queue, connection } = oursQueue(redis.url);
  await queue.waitUntilReady();
  await inBatches(n, (from, to) => {
    const items = [];
    for (let j = from; j < to; j++) items.push({ task_name: 'bench_noop', kwargs: { n: j } });
    return queue.enqueueBulk(items);
  });
  await queue.close();
  connection.disconnect();
}

/** Fills the raw BullMQ queue with `n` jobs. */
async function fillRaw(n: number): Promise<void> {
  const { queue, connection } = rawQueue(redis.url);
  await inBatches(n, (from, to) => {
    const jobs = [];
    for (let j = from; j < to; j++) jobs.push({ name: 'bench_noop', data: { n: j }, opts: RAW_JOB_OPTIONS });
    return queue.addBulk(jobs);
  });
  await queue.close();
  connection.disconnect();
}

/**
 * Runs `add` over 0..n in batches of 1,000, four at a time: while Redis runs
 * one batch's scripts the next is being built (a 20,000-task fill of ours took
 * 1.2–1.3 s against 1.7–1.9 s one batch after another). Fills are waited for,
 * not measured.
 */
async function inBatches(n: number, add: (from: number, to: number) => Promise<unknown>): Promise<void> {
  let from = 0;
  const lane = async () => {
    while (from < n) {
      const start = from;
      from = Math.min(n, from + 1000);
      await add(start, from);
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
}

/**
 * Fills a flushed Redis with `n` tasks of one side, through its own enqueue,
 * every time. The 14th pass restored later fills from the first one's keys
 * (`DUMP`/`RESTORE`, to buy rounds); on the 15th pass's VM that favoured raw:
 * raw's drains ran 3–7% faster from restored keys, ours' not
 * (docs/performance.md).
 */
function fill(kind: Kind, n: number): Promise<void> {
  return kind === 'ours' ? fillOurs(n) : fillRaw(n);
}

type Kind = 'ours' | 'raw';

/** A handle on one side's queue to pause and resume it globally (BullMQ's `pause`/`resume`). */
function pausable(kind: Kind): { pause(): Promise<void>; resume(): Promise<void>; close(): Promise<void> } {
  const { queue, connection } = kind === 'ours' ? oursQueue(redis.url) : rawQueue(redis.url);
  const bull = queue instanceof TaskQueue ? queue.bullQueue(QUEUE) : queue;
  return {
    pause: () => bull.pause(),
    resume: () => bull.resume(),
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Ours ÷ raw over alternating rounds (see pairedRatio), and each round's own. */
const ratios = (ours: number[], raw: number[]) => ({
  ratio: pairedRatio(ours, raw),
  round_ratios: roundRatios(ours, raw),
});
/** Alternates which side goes first from round to round. */
const order = (round: number): Kind[] => (round % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours']);

// ---------------------------------------------------------------- 1. worker throughput

interface WorkerPoint {
  concurrency: number;
  tasks: number;
  ours: Summary;
  raw: Summary;
  /** Ours ÷ raw, robust to drift (see pairedRatio). */
  ratio: number;
  /** Each round's own ours ÷ raw. */
  round_ratios: number[];
  ratio_of_medians: number;
  /** CPU µs per task over a drain (medians over the rounds): the bench process (the worker runs in it) and Redis. */
  cpu_us_per_task: Record<Kind, Record<string, number>>;
}

async function workerThroughput(): Promise<{
  points: WorkerPoint[];
  bytesPerTask: { ours: number; raw: number };
}> {
  const points: WorkerPoint[] = [];
  const bytes: Record<Kind, number[]> = { ours: [], raw: [] };
  for (const concurrency of config.concurrencies) {
    const tasks = concurrency === 1 ? config.workerTasksC1 : config.workerTasks;
    const runs: Record<Kind, number[]> = { ours: [], raw: [] };
    const cpu: Record<Kind, Record<string, number>[]> = { ours: [], raw: [] };
    const rounds = concurrency === 50 ? config.rounds : config.roundsOtherConcurrencies;
    for (let r = 0; r < rounds; r++) {
      for (const kind of order(r)) {
        await ctl.flushall();
        const before = await usedMemory();
        await fill(kind, tasks);
        const w =
          kind === 'ours'
            ? oursWorker(redis.url, concurrency, logFile('worker-inproc'))
            : rawWorker(redis.url, concurrency);
        const meter = cpuMeter('worker', { redis: redis.process.pid! });
        const t0 = now();
        await w.start();
        await until(`${kind} drains ${tasks}`, () => w.completed >= tasks);
        const seconds = (now() - t0) / 1000;
        const c = meter(tasks);
        cpu[kind].push(c);
        await w.close();
        runs[kind].push(tasks / seconds);
        if (concurrency === 50) bytes[kind].push(((await usedMemory()) - before) / tasks);
        log(
          `worker c=${concurrency} ${kind}: ${Math.round(tasks / seconds)} tasks/s (CPU µs per task: worker ${c.worker}, Redis ${c.redis})`,
        );
      }
    }
    const ours = summarize(runs.ours);
    const raw = summarize(runs.raw);
    points.push({
      concurrency,
      tasks,
      ours,
      raw,
      ...ratios(runs.ours, runs.raw),
      ratio_of_medians: round(ours.median / raw.median),
      cpu_us_per_task: { ours: medianCpu(cpu.ours), raw: medianCpu(cpu.raw) },
    });
  }
  const med = (xs: number[]) => summarize(xs).median;
  return { points, bytesPerTask: { ours: Math.round(med(bytes.ours)), raw: Math.round(med(bytes.raw)) } };
}

// ---------------------------------------------------------------- 2. HTTP ingest

interface HttpSide {
  requestsPerSecond: Summary;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function cannon(port: number, path: string, body: string, connections: number, seconds: number) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body,
  });
  return {
    requests: result.requests.total,
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

async function httpIngest(apis: Record<Kind, number>, pids: Record<Kind, number>) {
  const single = JSON.stringify({ task_name: 'bench_noop', kwargs: { n: 1 } });
  const bulk = JSON.stringify({
    tasks: Array.from({ length: config.bulkBatch }, (_, n) => ({ task_name: 'bench_noop', kwargs: { n } })),
  });
  /** A run's figures, with the CPU its processes spent per request (single) or per task (bulk). */
  type Run = Awaited<ReturnType<typeof cannon>> & { cpu: Record<string, number> };
  const singleRuns: Record<Kind, Run[]> = { ours: [], raw: [] };
  const bulkRuns: Record<Kind, Run[]> = { ours: [], raw: [] };
  // autocannon runs in this process: its share is the client's.
  const meter = (kind: Kind) => cpuMeter('client', { api: pids[kind], redis: redis.process.pid! });
  // Both servers start cold; ours has more code for V8 to compile, so a cold first round measured
  // the JIT as much as the path. Warm both the same way first, and count nothing of it.
  if (config.httpWarmupSeconds > 0) {
    for (const kind of order(0)) {
      await cannon(
        apis[kind],
        '/api/tasks/enqueue/',
        single,
        config.httpConnections,
        config.httpWarmupSeconds,
      );
      await cannon(apis[kind], '/api/tasks/enqueue-bulk/', bulk, config.bulkConnections, 1);
    }
    log(`http: both servers warmed up (${config.httpWarmupSeconds} s + 1 s bulk each, not counted)`);
  }
  for (let r = 0; r < config.httpRounds; r++) {
    for (const kind of order(r)) {
      await ctl.flushall();
      const m = meter(kind);
      const res = await cannon(
        apis[kind],
        '/api/tasks/enqueue/',
        single,
        config.httpConnections,
        config.httpSeconds,
      );
      const c = m(res.requests);
      singleRuns[kind].push({ ...res, cpu: c });
      log(
        `http ${kind}: ${Math.round(res.rps)} req/s, p99 ${res.p99} ms, errors ${res.errors} (CPU µs per request: API ${c.api}, Redis ${c.redis}, client ${c.client})`,
      );
    }
    for (const kind of order(r)) {
      await ctl.flushall();
      const m = meter(kind);
      const res = await cannon(
        apis[kind],
        '/api/tasks/enqueue-bulk/',
        bulk,
        config.bulkConnections,
        config.bulkSeconds,
      );
      bulkRuns[kind].push({ ...res, cpu: m(res.requests * config.bulkBatch) });
      log(`bulk ${kind}: ${Math.round(res.rps * config.bulkBatch)} tasks/s, errors ${res.errors}`);
    }
  }
  await ctl.flushall();
  const side = (runs: Run[], scale = 1): HttpSide => ({
    requestsPerSecond: summarize(runs.map((x) => x.rps * scale)),
    p50Ms: summarize(runs.map((x) => x.p50)).median,
    p99Ms: summarize(runs.map((x) => x.p99)).median,
    errors: runs.reduce((a, x) => a + x.errors, 0),
  });
  const cpuOf = (runs: Run[]) => medianCpu(runs.map((x) => x.cpu));
  const ingest = { ours: side(singleRuns.ours), bare: side(singleRuns.raw) };
  const bulkSides = {
    ours: side(bulkRuns.ours, config.bulkBatch),
    raw: side(bulkRuns.raw, config.bulkBatch),
  };
  return {
    ingest: {
      connections: config.httpConnections,
      seconds: config.httpSeconds,
      ...ingest,
      ...ratios(
        singleRuns.ours.map((x) => x.rps),
        singleRuns.raw.map((x) => x.rps),
      ),
      ratio_of_medians: round(ingest.ours.requestsPerSecond.median / ingest.bare.requestsPerSecond.median),
      /** CPU µs per request (medians over the rounds): the API process, Redis, and autocannon (the client). */
      cpu_us_per_request: { ours: cpuOf(singleRuns.ours), bare: cpuOf(singleRuns.raw) },
    },
    bulk: {
      batch: config.bulkBatch,
      connections: config.bulkConnections,
      seconds: config.bulkSeconds,
      unit: 'tasks/s',
      ...bulkSides,
      ...ratios(
        bulkRuns.ours.map((x) => x.rps),
        bulkRuns.raw.map((x) => x.rps),
      ),
      ratio_of_medians: round(
        bulkSides.ours.requestsPerSecond.median / bulkSides.raw.requestsPerSecond.median,
      ),
      /** CPU µs per task enqueued, as for single enqueues. */
      cpu_us_per_task: { ours: cpuOf(bulkRuns.ours), raw: cpuOf(bulkRuns.raw) },
    },
  };
}

// ---------------------------------------------------------------- 3. latency

/** Calls `fire` at a fixed rate (open loop) for `seconds`; returns how many were fired. */
async function atRate(rate: number, seconds: number, fire: (i: number) => void): Promise<number> {
  const t0 = now();
  let sent = 0;
  while (now() - t0 < seconds * 1000) {
    const due = Math.floor(((now() - t0) * rate) / 1000);
    while (sent < due) fire(sent++);
    await sleep(1);
  }
  return sent;
}

async function collect(
  worker: Child,
  want: (s: { latency: number[]; lateness: number[] }) => boolean,
): Promise<ChildMessage & { type: 'samples' }> {
  for (let i = 0; ; i++) {
    worker.send({ type: 'report' });
    const s = (await worker.next('samples')) as ChildMessage & { type: 'samples' };
    if (want(s) || i > 100) return s;
    await sleep(100);
  }
}

/** The median and the spread (min–max) of each percentile over the rounds, and every round's own. */
function overRounds(rounds: ReturnType<typeof latencySummary>[]) {
  const keys = ['p50', 'p75', 'p90', 'p95', 'p99', 'max'] as const;
  const of = keys.map((k) => [k, summarize(rounds.map((r) => r[k]))] as const);
  return {
    samples: rounds.reduce((a, r) => a + r.samples, 0),
    ...Object.fromEntries(of.map(([k, s]) => [k, s.median])),
    spread: Object.fromEntries(of.map(([k, s]) => [k, [s.min, s.max]])),
    rounds: rounds.map(({ p50, p95, p99 }) => ({ p50, p95, p99 })),
  } as ReturnType<typeof latencySummary> & {
    spread: Record<(typeof keys)[number], [number, number]>;
    rounds: { p50: number; p95: number; p99: number }[];
  };
}

/**
 * Latency at a fixed rate, in rounds like every other benchmark: both sides'
 * worker processes stay up for the whole run (only the side being measured
 * gets tasks), each first gets the same load uncounted (JIT warm-up), then
 * rounds alternate which side goes first. Each percentile is the median over
 * the rounds, with its spread; the pooled samples draw the chart.
 */
async function latency(oursApi: Child, oursApiPort: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  await ctl.flushall();
  const workers: Record<Kind, Child> = {
    ours: child('worker-child.ts', ['ours', redis.url, '10', logFile('latency-ours')]),
    raw: child('worker-child.ts', ['raw', redis.url, '10', logFile('latency-raw')]),
  };
  await Promise.all([workers.ours.ready, workers.raw.ready]);
  for (const w of Object.values(workers)) w.send({ type: 'go' });
  const raw = rawQueue(redis.url);
  await raw.queue.waitUntilReady();
  await sleep(500);
  // Task numbers run on over the whole run, so the API's arrival stamps match across rounds.
  let next = 0;
  const sent: Record<Kind, number> = { ours: 0, raw: 0 };
  const errors: Record<Kind, number> = { ours: 0, raw: 0 };
  let answered: Record<Kind, number[]> = { ours: [], raw: [] };
  const fire: Record<Kind, () => void> = {
    raw() {
      const t = now();
      void raw.queue.add('bench_noop', { n: next++, sent_at: t }, RAW_JOB_OPTIONS).then(
        () => answered.raw.push(now() - t),
        () => errors.raw++,
      );
    },
    ours() {
      const t = now();
      const n = next++;
      const body = JSON.stringify({ task_name: 'bench_noop', kwargs: { n, sent_at: t } });
      const req = request(
        {
          host: '127.0.0.1',
          port: oursApiPort,
          path: '/api/tasks/enqueue/',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${API_KEY}`,
            'x-bench-n': String(n),
          },
        },
        (res) => {
          if (res.statusCode !== 201) errors.ours++;
          res.resume();
          res.on('end', () => answered.ours.push(now() - t));
        },
      );
      req.on('error', () => errors.ours++);
      req.end(body);
    },
  };
  /** Runs one side at the rate for `seconds` and waits until its worker has started every task. */
  const run = async (kind: Kind, seconds: number) => {
    sent[kind] += await atRate(config.latencyRate, seconds, fire[kind]);
    return (await collect(
      workers[kind],
      (x) => x.latency.length >= sent[kind] - errors[kind],
    )) as ChildMessage & {
      type: 'samples';
    };
  };
  const arrivedAt = new Map<number, number>();
  const takeArrivals = async () => {
    oursApi.send({ type: 'arrivals' });
    const { arrivals } = (await oursApi.next('arrivals')) as ChildMessage & { type: 'arrivals' };
    for (const [n, at] of arrivals) arrivedAt.set(n, at);
  };
  // A fresh worker process's first second measured its JIT warm-up, not the path: in one probe
  // its p99 was 83 ms against 14–28 ms in each later second, for ours and raw alike. Each side
  // gets the same load first, drained, and nothing of it is counted.
  if (config.latencyWarmupSeconds > 0) {
    for (const kind of order(0)) {
      await run(kind, config.latencyWarmupSeconds);
      workers[kind].send({ type: 'reset' });
      await workers[kind].next('reset');
    }
    await takeArrivals();
    arrivedAt.clear();
    sent.ours = sent.raw = errors.ours = errors.raw = 0;
    answered = { ours: [], raw: [] };
  }
  // Per round, from the arrival (ours: at the API, as the floor is defined; raw: the add call),
  // and for ours also from the client's send, which adds the bench's own HTTP client.
  const rounds: Record<Kind, ReturnType<typeof latencySummary>[]> = { ours: [], raw: [] };
  const fromSendRounds: ReturnType<typeof latencySummary>[] = [];
  const pooled: Record<Kind, number[]> = { ours: [], raw: [] };
  const seen: Record<Kind, number> = { ours: 0, raw: 0 };
  for (let r = 0; r < config.latencyRounds; r++) {
    for (const kind of order(r)) {
      const s = await run(kind, config.latencySeconds);
      const starts = s.starts.slice(seen[kind]);
      const fromSend = s.latency.slice(seen[kind]);
      seen[kind] = s.starts.length;
      let fromArrival = fromSend;
      if (kind === 'ours') {
        await takeArrivals();
        fromArrival = starts.flatMap(([n, at]) => {
          const arrived = arrivedAt.get(n);
          return arrived === undefined ? [] : [at - arrived];
        });
        fromSendRounds.push(latencySummary(fromSend));
      }
      rounds[kind].push(latencySummary(fromArrival));
      pooled[kind].push(...fromArrival);
      const l = rounds[kind].at(-1)!;
      log(`latency ${kind}, round ${r + 1}: p50 ${l.p50} ms, p99 ${l.p99} ms (${l.samples} tasks)`);
    }
  }
  const side = (kind: Kind) => ({
    sent: sent[kind],
    errors: errors[kind],
    ...overRounds(rounds[kind]),
    pooled: latencySummary(pooled[kind]),
    ...(kind === 'ours' ? { from_client_send: overRounds(fromSendRounds) } : {}),
    // How long the enqueue call itself took (HTTP answer, or queue.add resolving), all rounds.
    enqueue_call: latencySummary(answered[kind]),
  });
  const sides = { ours: side('ours'), raw: side('raw') };
  for (const kind of ['ours', 'raw'] as Kind[])
    log(
      `latency ${kind}: p50 ${sides[kind].p50} ms, p99 ${sides[kind].p99} ms (median of ${config.latencyRounds} rounds; ${sides[kind].spread.p99.join('–')}); enqueue call p50 ${sides[kind].enqueue_call.p50} ms`,
    );
  await raw.queue.close();
  raw.connection.disconnect();
  await workers.raw.stop();
  // Delayed tasks: due 1–3 s from now; lateness = handler start − due time.
  const { queue, connection } = oursQueue(redis.url);
  await queue.waitUntilReady();
  const items = Array.from({ length: config.delayedTasks }, (_, n) => {
    const countdown = 1 + (2 * n) / config.delayedTasks;
    return { task_name: 'bench_noop', kwargs: { n, due_at: Date.now() + countdown * 1000 }, countdown };
  });
  await inBatches(items.length, (from, to) => queue.enqueueBulk(items.slice(from, to)));
  const d = await collect(workers.ours, (x) => x.lateness.length >= items.length);
  await queue.close();
  connection.disconnect();
  const delayed = latencySummary(d.lateness);
  log(`delayed lateness: p50 ${delayed.p50} ms, p99 ${delayed.p99} ms`);
  await workers.ours.stop();
  agent.destroy();
  return {
    rate: config.latencyRate,
    rounds: config.latencyRounds,
    seconds: config.latencySeconds,
    warmup_seconds: config.latencyWarmupSeconds,
    ...sides,
    delayed,
    oursSamples: pooled.ours,
    rawSamples: pooled.raw,
  };
}

// ---------------------------------------------------------------- 5. scaling

async function scaling() {
  const points: {
    workers: number;
    ours: { tasksPerSecond: number; redisCpu: number; workerRssMb: number };
    raw: { tasksPerSecond: number; redisCpu: number; workerRssMb: number };
  }[] = [];
  for (const [i, workers] of config.scaleWorkers.entries()) {
    const point: Record<string, { tasksPerSecond: number; redisCpu: number; workerRssMb: number }> = {};
    for (const kind of order(i)) {
      await ctl.flushall();
      const children = Array.from({ length: workers }, (_, k) =>
        child('worker-child.ts', [
          kind,
          redis.url,
          String(config.scaleConcurrency),
          logFile(`scale-${kind}-${k}`),
        ]),
      );
      await Promise.all(children.map((c) => c.ready));
      const key =
        kind === 'ours' ? `${PREFIX}:{${QUEUE}}:${QUEUE}:completed` : `rawbench:{raw}:raw:completed`;
      const completed = () => ctl.zcard(key);
      // Warm-up, not counted: fresh processes spent the counted drain's first part compiling the
      // path (each of four got 3,000 tasks), so the curve fell with more processes partly for that.
      for (const c of children) c.send({ type: 'go' });
      const warm = config.scaleWarmupTasks * workers;
      await fill(kind, warm);
      await until(`${workers} ${kind} workers warm up`, async () => (await completed()) >= warm);
      // The counted tasks go in while the queue is paused (BullMQ's global pause: the workers stay
      // up, waiting), and the clock starts at the resume that wakes them.
      const control = pausable(kind);
      await control.pause();
      await fill(kind, config.scaleTasks);
      const cpu0 = cpuSecondsOf(redis.process.pid!);
      const t0 = now();
      await control.resume();
      let peak = 0;
      await until(`${workers} ${kind} workers drain`, async () => {
        await sleep(20);
        for (const c of children) peak = Math.max(peak, memoryOf(c.proc.pid!).rss);
        return (await completed()) >= warm + config.scaleTasks;
      });
      const seconds = (now() - t0) / 1000;
      const cpu = cpuSecondsOf(redis.process.pid!) - cpu0;
      await control.close();
      await Promise.all(children.map((c) => c.stop()));
      point[kind] = {
        tasksPerSecond: Math.round(config.scaleTasks / seconds),
        redisCpu: round(cpu / seconds, 2),
        workerRssMb: round(peak / 2 ** 20, 1),
      };
      log(
        `scale ${workers}×${kind}: ${point[kind]!.tasksPerSecond} tasks/s, Redis CPU ${Math.round(point[kind]!.redisCpu * 100)}%`,
      );
    }
    points.push({ workers, ours: point.ours!, raw: point.raw! });
  }
  return points;
}

// ---------------------------------------------------------------- output

function versionOf(pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(benchDir, 'node_modules', pkg, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

function floor(name: string, measured: number, limit: number, kind: 'min' | 'max') {
  return {
    name,
    measured,
    floor: limit,
    kind,
    holds: kind === 'min' ? measured >= limit : measured <= limit,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main() {
  const started = Date.now();
  mkdirSync(resultsDir, { recursive: true });
  redis = await startRedisServer({ extraArgs: ['--maxmemory-policy', 'noeviction'] });
  ctl = new Redis(redis.url);
  const redisVersion = /^redis_version:(\S+)/m.exec(await ctl.info('server'))?.[1] ?? 'unknown';
  log(`redis-server ${redisVersion} on ${redis.url}; ${QUICK ? 'quick smoke run' : 'full run'}`);
  const load = loadavg();
  const apis: Child[] = [];
  let finished = false;
  try {
    // Latency first, on a quiet machine, with an API process of its own: right after the
    // saturation rounds below, both sides' p99 at 500/s ran 2–3 times higher for ~20 s
    // (ours 30–39 ms, raw 19–21 ms in probes), and an API just driven at saturation with bulk
    // requests carries a large heap into the run (docs/performance.md).
    const latencyApi = child('api-child.ts', ['ours', redis.url, logFile('api-latency')], API_NODE_OPTIONS);
    apis.push(latencyApi);
    const lat = await latency(latencyApi, (await latencyApi.ready).port!);
    await latencyApi.stop();
    const worker = await workerThroughput();
    // Ours as deployed, with the API's V8 options; the bare route on Node's defaults.
    const oursApi = child('api-child.ts', ['ours', redis.url, logFile('api')], API_NODE_OPTIONS);
    const bareApi = child('api-child.ts', ['bare', redis.url, logFile('api-bare')]);
    apis.push(oursApi, bareApi);
    const ports = { ours: (await oursApi.ready).port!, raw: (await bareApi.ready).port! };
    const http = await httpIngest(ports, { ours: oursApi.proc.pid!, raw: bareApi.proc.pid! });
    const apiRss = memoryOf(oursApi.proc.pid!).peak;
    const bareRss = memoryOf(bareApi.proc.pid!).peak;
    await Promise.all(apis.map((a) => a.stop()));
    const scale = await scaling();
    const c50 = worker.points.find((p) => p.concurrency === 50)!;
    const { oursSamples: _o, rawSamples: _r, ...latencyFigures } = lat;
    const results = {
      generated_at: new Date().toISOString(),
      quick: QUICK,
      command: QUICK ? 'BENCH_QUICK=1 pnpm bench' : 'pnpm bench',
      duration_s: 0,
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memory_gb: round(totalmem() / 2 ** 30, 1),
        os: `${process.platform} ${release()}`,
        load_average_at_start: load.map((x) => round(x, 2)),
      },
      versions: {
        node: process.versions.node,
        redis: redisVersion,
        bullmq: versionOf('bullmq'),
        ioredis: versionOf('ioredis'),
        fastify: versionOf('fastify'),
        autocannon: versionOf('autocannon'),
      },
      config,
      worker_throughput: worker.points,
      http_ingest: http.ingest,
      bulk_ingest: http.bulk,
      latency: latencyFigures,
      footprint: {
        worker_rss_mb: scale[0]?.ours.workerRssMb ?? 0,
        raw_worker_rss_mb: scale[0]?.raw.workerRssMb ?? 0,
        api_rss_mb: round(apiRss / 2 ** 20, 1),
        bare_api_rss_mb: round(bareRss / 2 ** 20, 1),
        redis_bytes_per_finished_task: worker.bytesPerTask.ours,
        raw_redis_bytes_per_finished_task: worker.bytesPerTask.raw,
      },
      scaling: scale,
      floors: [
        floor('worker throughput at concurrency 50, ours ÷ raw', c50.ratio, 0.9, 'min'),
        floor('HTTP ingest, ours ÷ bare Fastify + queue.add', http.ingest.ratio, 0.8, 'min'),
        floor('bulk ingest, ours ÷ bare Fastify + addBulk', http.bulk.ratio, 0.75, 'min'),
        floor('latency p50 at 500 tasks/s, arrival → handler start, ms', lat.ours.p50, 2, 'max'),
        floor('latency p99 at 500 tasks/s, arrival → handler start, ms', lat.ours.p99, 10, 'max'),
      ],
    };
    results.duration_s = Math.round((Date.now() - started) / 1000);
    writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeCharts(results);
    printTable(results);
    finished = true;
  } finally {
    await Promise.all(apis.map((a) => a.stop().catch(() => {})));
    ctl.disconnect();
    await redis.stop({ removeData: true });
    // A failed run keeps its logs: they say what went wrong.
    if (work !== undefined) {
      if (KEEP_LOGS || !finished) log(`logs kept in ${work}`);
      else rmSync(work, { recursive: true, force: true });
    }
  }
}

type Results = {
  machine: { cores: number; cpu: string };
  generated_at: string;
  worker_throughput: WorkerPoint[];
  scaling: Awaited<ReturnType<typeof scaling>>;
  latency: { ours: ReturnType<typeof latencySummary>; raw: ReturnType<typeof latencySummary> };
};

/** The SVG charts, from the results alone (`BENCH_CHARTS_ONLY=1` redraws them from latest.json). */
export function writeCharts(r: Results) {
  const note = `${r.machine.cores} cores, ${r.machine.cpu}; ${r.generated_at.slice(0, 16)}Z`;
  const series = [OURS, RAW];
  writeFileSync(
    join(resultsDir, 'throughput-concurrency.svg'),
    barChart({
      title: 'Worker throughput vs concurrency (one process, no-op tasks)',
      yLabel: 'tasks/s (median)',
      series,
      note,
      groups: r.worker_throughput.map((p) => ({
        label: `concurrency ${p.concurrency}`,
        values: { [OURS.name]: p.ours.median, [RAW.name]: p.raw.median },
      })),
    }),
  );
  writeFileSync(
    join(resultsDir, 'throughput-workers.svg'),
    barChart({
      title: 'Throughput vs worker processes (concurrency 50 each)',
      yLabel: 'tasks/s',
      series,
      note,
      groups: r.scaling.map((p) => ({
        label: `${p.workers} process${p.workers > 1 ? 'es' : ''}\nRedis CPU ${Math.round(p.ours.redisCpu * 100)}% / ${Math.round(p.raw.redisCpu * 100)}%`,
        values: { [OURS.name]: p.ours.tasksPerSecond, [RAW.name]: p.raw.tasksPerSecond },
      })),
    }),
  );
  writeFileSync(
    join(resultsDir, 'latency.svg'),
    barChart({
      title: 'Enqueue → handler start at 500 tasks/s (ours: over HTTP; raw: queue.add)',
      yLabel: 'ms',
      series: [
        { name: 'Solar Tasks (HTTP)', color: OURS.color },
        { name: 'raw BullMQ add', color: RAW.color },
      ],
      note,
      groups: [50, 75, 90, 95, 99].map((p) => ({
        label: `p${p}`,
        values: {
          'Solar Tasks (HTTP)': r.latency.ours[`p${p}` as 'p50'],
          'raw BullMQ add': r.latency.raw[`p${p}` as 'p50'],
        },
      })),
    }),
  );
}

function printTable(r: Awaited<ReturnType<typeof JSON.parse>>) {
  const rows: string[][] = [['benchmark', 'Solar Tasks', 'raw / bare', 'ratio']];
  const cpuCell = (c: Record<string, number>, names: string[]) => names.map((n) => c[n]).join(' / ');
  for (const p of r.worker_throughput as WorkerPoint[]) {
    rows.push([
      `worker tasks/s, concurrency ${p.concurrency}`,
      `${Math.round(p.ours.median)} (${Math.round(p.ours.min)}–${Math.round(p.ours.max)})`,
      `${Math.round(p.raw.median)} (${Math.round(p.raw.min)}–${Math.round(p.raw.max)})`,
      String(p.ratio),
    ]);
    if (p.concurrency === 50)
      rows.push([
        '  CPU µs per task: worker / Redis',
        cpuCell(p.cpu_us_per_task.ours, ['worker', 'redis']),
        cpuCell(p.cpu_us_per_task.raw, ['worker', 'redis']),
        '',
      ]);
  }
  const h = r.http_ingest;
  rows.push([
    `HTTP enqueue req/s (${h.connections} conn)`,
    `${Math.round(h.ours.requestsPerSecond.median)} p99 ${h.ours.p99Ms} ms`,
    `${Math.round(h.bare.requestsPerSecond.median)} p99 ${h.bare.p99Ms} ms`,
    String(h.ratio),
  ]);
  rows.push([
    '  CPU µs per request: API / Redis / client',
    cpuCell(h.cpu_us_per_request.ours, ['api', 'redis', 'client']),
    cpuCell(h.cpu_us_per_request.bare, ['api', 'redis', 'client']),
    '',
  ]);
  const b = r.bulk_ingest;
  rows.push([
    `bulk enqueue tasks/s (${b.batch}/request)`,
    String(Math.round(b.ours.requestsPerSecond.median)),
    String(Math.round(b.raw.requestsPerSecond.median)),
    String(b.ratio),
  ]);
  const l = r.latency;
  rows.push([
    `arrival → handler start p50/p95/p99 ms, 500/s (median of ${l.rounds} rounds)`,
    `${l.ours.p50} / ${l.ours.p95} / ${l.ours.p99}`,
    `${l.raw.p50} / ${l.raw.p95} / ${l.raw.p99}`,
    '',
  ]);
  rows.push([
    '  p99 over the rounds, min–max ms',
    l.ours.spread.p99.join('–'),
    l.raw.spread.p99.join('–'),
    '',
  ]);
  if (l.ours.from_client_send)
    rows.push([
      '  from the client send, p50/p95/p99 ms',
      `${l.ours.from_client_send.p50} / ${l.ours.from_client_send.p95} / ${l.ours.from_client_send.p99}`,
      '',
      '',
    ]);
  rows.push(['delayed-task lateness p50 / p99 ms', `${l.delayed.p50} / ${l.delayed.p99}`, '', '']);
  for (const s of r.scaling)
    rows.push([
      `${s.workers} worker process(es) tasks/s (Redis CPU)`,
      `${s.ours.tasksPerSecond} (${Math.round(s.ours.redisCpu * 100)}%)`,
      `${s.raw.tasksPerSecond} (${Math.round(s.raw.redisCpu * 100)}%)`,
      String(round(s.ours.tasksPerSecond / s.raw.tasksPerSecond)),
    ]);
  const f = r.footprint;
  rows.push(['worker RSS MB under load', String(f.worker_rss_mb), String(f.raw_worker_rss_mb), '']);
  rows.push(['API RSS MB under load', String(f.api_rss_mb), String(f.bare_api_rss_mb), '']);
  rows.push([
    'Redis bytes per finished task',
    String(f.redis_bytes_per_finished_task),
    String(f.raw_redis_bytes_per_finished_task),
    '',
  ]);
  process.stdout.write(`\n${table(rows)}\n\nfloors:\n`);
  for (const fl of r.floors)
    process.stdout.write(
      `  ${fl.holds ? 'holds' : 'MISSED'}  ${fl.name}: ${fl.measured} (${fl.kind === 'min' ? '≥' : '≤'} ${fl.floor})\n`,
    );
  process.stdout.write(`\n${r.command}: ${r.duration_s} s; written to ${join(resultsDir, 'latest.json')}\n`);
}

/** What `pnpm bench --help` prints: the run's switches and every size with its defaults. */
function usage(): string {
  const width = Math.max(...sizes.map((v) => v.name.length));
  return [
    'pnpm bench: our worker and API side by side with raw BullMQ, on a redis-server of its own',
    '(method: docs/performance.md). No arguments; environment variables:',
    '',
    '  BENCH_QUICK=1          a smoke run (under a minute; CI runs it as a test)',
    '  BENCH_RESULTS_DIR=DIR  where latest.json and the charts go (default bench/results)',
    '  BENCH_CHARTS_ONLY=1    redraw the charts from DIR/latest.json, run nothing',
    "  BENCH_KEEP_LOGS=1      keep the processes' log files (removed after a finished run otherwise)",
    '',
    `  sizes (full run / BENCH_QUICK=1):`,
    ...sizes.map((v) => `  ${v.name.padEnd(width)}  ${v.full} / ${v.quick}`),
    '',
  ].join('\n');
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage());
} else if (args.length > 0) {
  // Not silently ignored: a full run takes minutes, and its sizes come from the environment.
  process.stderr.write(
    `pnpm bench: unknown argument "${args[0]}"; sizes are BENCH_* variables (pnpm bench --help)\n`,
  );
  process.exitCode = 2;
} else if (process.env.BENCH_CHARTS_ONLY === '1') {
  writeCharts(JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8')) as Results);
} else {
  await main();
}
