import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuMeter, medianCpu, pairedRatio, roundRatios } from './common.js';

const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'solar-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Floor {
  name: string;
  measured: number;
  floor: number;
  kind: 'min' | 'max';
  holds: boolean;
}

describe('pairedRatio', () => {
  it('cancels a machine that speeds up during the run, where a median of the rounds’ own ratios does not', () => {
    // Ours at 0.9 × raw; the machine 10% faster for each run after the one before. Rounds run in
    // alternating order (ours first, raw first, ...), so each round's second side gets the boost.
    const speed = (slot: number) => 1.1 ** slot;
    const rounds = 5;
    const ours: number[] = [];
    const raw: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const [oursSlot, rawSlot] = r % 2 === 0 ? [2 * r, 2 * r + 1] : [2 * r + 1, 2 * r];
      ours.push(900 * speed(oursSlot));
      raw.push(1000 * speed(rawSlot));
    }
    // The rounds' own ratios: 0.818, 0.99, 0.818, 0.99, 0.818 (median 0.818).
    expect(roundRatios(ours, raw)).toEqual([0.818, 0.99, 0.818, 0.99, 0.818]);
    expect(pairedRatio(ours, raw)).toBe(0.9);
  });

  it('is the median over consecutive rounds, not the ratio of the medians', () => {
    // Rounds at 0.8, 0.8 and 0.5 of raw: consecutive pairs 0.8 and √0.4 ≈ 0.632, median 0.716;
    // the ratio of the medians (6 ÷ 10) would read 0.6.
    expect(pairedRatio([8, 4, 6], [10, 5, 12])).toBe(0.716);
    expect(pairedRatio([1, 4], [2, 5])).toBe(0.632); // √(0.5 × 0.8)
    expect(pairedRatio([3], [4])).toBe(0.75);
    expect(pairedRatio([], [])).toBe(0);
  });
});

describe('cpuMeter', () => {
  it('gives CPU µs per unit of work, for this process and for others by pid (from /proc)', () => {
    // This process measured both ways: process.cpuUsage() and /proc/<pid>/stat (10 ms ticks).
    const meter = cpuMeter('self', { proc: process.pid });
    const end = performance.now() + 300;
    let spin = 0;
    while (performance.now() < end) spin++;
    const perUnit = meter(1000);
    expect(spin).toBeGreaterThan(0);
    expect(Object.keys(perUnit)).toEqual(['self', 'proc']);
    expect(perUnit.self).toBeGreaterThanOrEqual(250); // ≥ 250 ms of busy CPU over 1,000 units
    expect(Math.abs(perUnit.proc! - perUnit.self!)).toBeLessThanOrEqual(0.15 * perUnit.self!);
    expect(
      medianCpu([
        { a: 1, b: 9 },
        { a: 3, b: 7 },
        { a: 2, b: 8 },
      ]),
    ).toEqual({ a: 2, b: 8 });
  });
});

/** Runs `pnpm bench`'s entry point with `args`, its results into `out`. */
function bench(args: string[], env: Record<string, string> = {}, timeout = 60_000) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@solar-tasks/source', 'src/main.ts', ...args],
    { cwd: benchDir, env: { ...process.env, BENCH_RESULTS_DIR: out, ...env }, encoding: 'utf8', timeout },
  );
}

describe('pnpm bench arguments', () => {
  it('--help lists every BENCH_* size with its defaults and runs nothing', () => {
    const run = bench(['--help']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/BENCH_QUICK=1/);
    expect(run.stdout).toMatch(/BENCH_ROUNDS +11 \/ 1\n/);
    expect(run.stdout).toMatch(/BENCH_SCALE_TASKS +12000 \/ 1500\n/);
    expect(existsSync(join(out, 'latest.json'))).toBe(false);
  });

  it('refuses an unknown argument instead of starting a full run', () => {
    const run = bench(['--rounds', '3']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown argument "--rounds".*BENCH_\*/);
    expect(existsSync(join(out, 'latest.json'))).toBe(false);
  });
});

/**
 * A smoke run of the bench (BENCH_QUICK=1): it runs end to end and writes
 * results of the documented shape, with every floor computed. Figures are
 * never asserted: a CI machine's speed says nothing about the code.
 */
describe('pnpm bench (quick smoke run)', () => {
  it('writes latest.json with every benchmark, the floors and the charts, and leaves no log files behind', () => {
    // Its own temporary directory, to see what the run leaves there (a full run logs ~150 MB).
    const tmp = mkdtempSync(join(tmpdir(), 'solar-bench-tmp-'));
    const run = bench([], { BENCH_QUICK: '1', TMPDIR: tmp }, 220_000);
    const left = readdirSync(tmp).filter((name) => name.startsWith('solar-bench-'));
    rmSync(tmp, { recursive: true, force: true });
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toMatch(/floors:/);
    expect(left).toEqual([]);
    const r = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(r.quick).toBe(true);
    expect(Object.keys(r.machine)).toEqual(expect.arrayContaining(['cpu', 'cores']));
    expect(Object.keys(r.versions)).toEqual(expect.arrayContaining(['node', 'redis', 'bullmq']));
    expect(r.worker_throughput.map((p: { concurrency: number }) => p.concurrency)).toEqual([1, 10, 50]);
    for (const p of r.worker_throughput) {
      expect(p.ours.median).toBeGreaterThan(0);
      expect(p.raw.median).toBeGreaterThan(0);
      expect(p.ratio_of_medians).toBeCloseTo(p.ours.median / p.raw.median, 2);
      // The ratio comes from the rounds' own ratios (listed), so it lies within their range.
      const perRound = p.ours.runs.map((o: number, i: number) => o / p.raw.runs[i]);
      expect(p.round_ratios).toHaveLength(perRound.length);
      for (const [i, r] of (p.round_ratios as number[]).entries()) expect(r).toBeCloseTo(perRound[i]!, 2);
      expect(p.ratio).toBeGreaterThanOrEqual(Math.min(...perRound) - 0.01);
      expect(p.ratio).toBeLessThanOrEqual(Math.max(...perRound) + 0.01);
      // Where the CPU went: the in-process worker's share is never nothing; Redis's may read 0 on a
      // short drain (its CPU is read in 10 ms ticks).
      for (const side of [p.cpu_us_per_task.ours, p.cpu_us_per_task.raw]) {
        expect(side.worker).toBeGreaterThan(0);
        expect(side.redis).toBeGreaterThanOrEqual(0);
      }
    }
    for (const side of [r.http_ingest.cpu_us_per_request.ours, r.http_ingest.cpu_us_per_request.bare]) {
      expect(side.api).toBeGreaterThan(0);
      expect(side.client).toBeGreaterThan(0);
      expect(side.redis).toBeGreaterThanOrEqual(0);
    }
    expect(Object.keys(r.bulk_ingest.cpu_us_per_task.ours)).toEqual(['client', 'api', 'redis']);
    for (const section of [r.http_ingest, r.bulk_ingest]) {
      expect(section.ours.requestsPerSecond.median).toBeGreaterThan(0);
      expect(section.ours.errors).toBe(0);
      expect(section.ratio).toBeGreaterThan(0);
    }
    for (const side of [r.latency.ours, r.latency.raw, r.latency.delayed]) {
      expect(side.samples).toBeGreaterThan(0);
      expect(side.p50).toBeLessThanOrEqual(side.p99);
    }
    // Latency is in rounds: each percentile is the median of the rounds' own, within their spread.
    for (const side of [r.latency.ours, r.latency.raw]) {
      expect(side.rounds).toHaveLength(r.latency.rounds);
      for (const p of ['p50', 'p95', 'p99'] as const) {
        const own = (side.rounds as Record<string, number>[]).map((x) => x[p]!).sort((a, b) => a - b);
        expect(side.spread[p]).toEqual([own[0], own.at(-1)]);
        expect(side[p]).toBeGreaterThanOrEqual(own[0]!);
        expect(side[p]).toBeLessThanOrEqual(own.at(-1)!);
      }
      expect(side.pooled.samples).toBe(side.samples);
    }
    // Every task of ours was matched with its request's arrival at the API, and arrival comes
    // after the client's send, task by task, so each percentile from arrival is the smaller.
    expect(r.latency.ours.samples).toBe(r.latency.ours.sent);
    for (const p of ['p50', 'p95', 'p99'] as const)
      expect(r.latency.ours[p]).toBeLessThanOrEqual(r.latency.ours.from_client_send[p]);
    expect(r.footprint.redis_bytes_per_finished_task).toBeGreaterThan(0);
    expect(r.footprint.worker_rss_mb).toBeGreaterThan(0);
    expect(r.scaling.length).toBeGreaterThanOrEqual(2);
    for (const s of r.scaling) expect(s.ours.redisCpu).toBeGreaterThanOrEqual(0);
    const floors = r.floors as Floor[];
    expect(floors.map((f) => f.name)).toHaveLength(5);
    for (const f of floors) {
      expect(typeof f.measured).toBe('number');
      expect(f.holds).toBe(f.kind === 'min' ? f.measured >= f.floor : f.measured <= f.floor);
    }
    for (const svg of ['throughput-concurrency.svg', 'throughput-workers.svg', 'latency.svg']) {
      expect(existsSync(join(out, svg)), svg).toBe(true);
      expect(readFileSync(join(out, svg), 'utf8')).toMatch(
        /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
      );
    }
  });
});
