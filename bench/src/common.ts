import { readFileSync } from 'node:fs';
import { defineTask, TaskCatalog } from '@solar-tasks/contract';
import { z } from 'zod';

/** The bench's one task: does nothing, so what is measured is the path around it. */
export const noopTask = defineTask({
  name: 'bench_noop',
  description: 'Does nothing (benchmarks)',
  args: z.object({
    n: z.int().min(0),
    /** Wall-clock ms when the client sent it (latency runs). */
    sent_at: z.number().optional(),
    /** Wall-clock ms when it is due (delayed-task runs). */
    due_at: z.number().optional(),
  }),
  defaults: { maxRetries: 0 },
});
export const catalog = new TaskCatalog([noopTask]);
/** The contract queue the bench task lives on. */
export const QUEUE = noopTask.queue;
/** Deployment prefix of "ours"; raw BullMQ uses its own hash-tagged prefix on the same server. */
export const PREFIX = 'bench';
export const RAW_PREFIX = 'rawbench:{raw}';
export const RAW_QUEUE = 'raw';
/**
 * The job options our enqueue gives a `bench_noop` task (priority 5, one
 * attempt, exponential backoff, retention by age): the raw baseline uses the
 * same, so the comparison measures our layer, not a different job.
 */
export const RAW_JOB_OPTIONS = {
  priority: 5,
  attempts: 1,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 7 * 86_400 },
  removeOnFail: { age: 7 * 86_400 },
};
export const API_KEY = 'bench-key-0123456789abcdef0123';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Median and spread of a list of runs. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  return {
    median: round(percentile(sorted, 50)),
    min: round(sorted[0] ?? 0),
    max: round(sorted[sorted.length - 1] ?? 0),
    runs: runs.map(round),
  };
}

/** Each round's ours ÷ raw, in round order. */
export function roundRatios(ours: readonly number[], raw: readonly number[]): number[] {
  return ours.map((o, i) => round(o / raw[i]!));
}

/**
 * Ours ÷ raw from rounds run in alternating order (ours first in even rounds,
 * raw first in odd ones: `order` in main.ts), robust to a machine whose speed
 * drifts during the run. A round's own ratio takes a drift whole: its second
 * side ran on a faster or slower machine than its first (in one run, with the
 * machine slowing from ~16,400 to ~9,300 requests/s, the HTTP rounds read
 * 0.83, 0.74, 1.12 and 0.71 by which side went first). Two consecutive rounds
 * ran in opposite orders, so a steady drift biases their ratios in opposite
 * directions: the geometric mean of the two cancels it (exactly, for a drift
 * by a constant factor per run). The result is the median of those means over
 * every two consecutive rounds; a single round gives its own ratio.
 */
export function pairedRatio(ours: readonly number[], raw: readonly number[]): number {
  const ratios = ours.map((o, i) => o / raw[i]!);
  if (ratios.length <= 1) return ratios.length === 0 ? 0 : round(ratios[0]!);
  const pairs = ratios
    .slice(1)
    .map((r, i) => Math.sqrt(r * ratios[i]!))
    .sort((a, b) => a - b);
  const mid = Math.floor(pairs.length / 2);
  return round(pairs.length % 2 ? pairs[mid]! : (pairs[mid - 1]! + pairs[mid]!) / 2);
}

/** The p-th percentile of an ascending list (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Percentiles of latency samples, ms. */
export function latencySummary(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: round(percentile(sorted, 50)),
    p75: round(percentile(sorted, 75)),
    p90: round(percentile(sorted, 90)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

/** Resident memory (now and peak) of a process, bytes, from /proc. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/**
 * CPU spent over a span of work, in µs per unit (task or request), by the
 * processes that share the machine's cores: this one (the bench process, named
 * `self`: the in-process worker, or autocannon) and others by pid (an API
 * child, Redis). Ratios say how much slower ours is; these say where the time
 * went and which process was saturated (µs per unit × units per second ≈ the
 * share of a core it kept busy).
 */
export function cpuMeter(
  self: string,
  pids: Record<string, number>,
): (units: number) => Record<string, number> {
  const self0 = process.cpuUsage();
  const others0 = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  return (units) => {
    const own = process.cpuUsage(self0);
    const out: Record<string, number> = { [self]: round((own.user + own.system) / units, 1) };
    for (const [name, pid] of Object.entries(pids))
      out[name] = round(((cpuSecondsOf(pid) - others0[name]!) * 1e6) / units, 1);
    return out;
  };
}

/** Each field's median over runs of {@link cpuMeter}. */
export function medianCpu(runs: readonly Record<string, number>[]): Record<string, number> {
  const names = Object.keys(runs[0] ?? {});
  return Object.fromEntries(names.map((name) => [name, summarize(runs.map((r) => r[name]!)).median]));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Messages between the bench and its child processes. */
export type ChildMessage =
  | { type: 'ready'; port?: number }
  | { type: 'samples'; latency: number[]; lateness: number[]; starts: [n: number, at: number][] }
  | { type: 'arrivals'; arrivals: [n: number, at: number][] }
  | { type: 'memory'; rss: number; peak: number }
  | { type: 'reset' };
