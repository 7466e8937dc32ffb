/** What a process reports when probed: bytes, measured right after a full garbage collection. */
export interface MemoryProbe {
  rss: number;
  heap_used: number;
  external: number;
}

/** The marker of a probe's output line. */
export const MEMORY_PROBE_MARK = 'memory_probe';

/**
 * For fixture processes in memory tests: on SIGUSR2, collect garbage (when
 * the process runs with `--expose-gc`) and print one JSON line
 * `{"memory_probe": {rss, heap_used, external}}` on stdout. After a full GC,
 * `heap_used` is what the process really holds: RSS alone mostly shows how
 * lazily V8 gives pages back, and hides a slow leak.
 */
export function installMemoryProbe(): void {
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const probe: MemoryProbe = { rss: m.rss, heap_used: m.heapUsed, external: m.external };
    process.stdout.write(`${JSON.stringify({ [MEMORY_PROBE_MARK]: probe })}\n`);
  });
}
