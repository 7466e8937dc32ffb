import { randomUUID } from 'node:crypto';

/** A key prefix no other test uses, e.g. `test-3f2a…`. */
export function uniquePrefix(label = 'test'): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/**
 * Polls `probe` until it returns a truthy value and returns that value; throws
 * a message naming `what` never happened. For state that has no event.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting until ${what} (last value: ${describe(last)})`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value)?.slice(0, 300) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Resolves on the first `event` emitted by `emitter` that satisfies `filter`, or rejects after `timeoutMs`. */
export function nextEvent<A extends unknown[]>(
  emitter: { on(e: string, l: (...a: A) => void): unknown; off(e: string, l: (...a: A) => void): unknown },
  event: string,
  filter: (...args: A) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for event "${event}"`));
    }, timeoutMs);
    const listener = (...args: A) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    };
    emitter.on(event, listener);
  });
}

/**
 * Runs teardown steps in order, each bounded by `timeoutMs`, and every one of
 * them even when an earlier one fails or hangs, so a stuck client can never
 * leave servers running. Throws the first failure afterwards.
 */
export async function cleanUp(
  steps: readonly (() => Promise<unknown> | undefined)[],
  { timeoutMs = 15_000 }: { timeoutMs?: number } = {},
): Promise<void> {
  let first: unknown;
  for (const [i, step] of steps.entries()) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        step(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`cleanup step ${i + 1} took over ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      first ??= err;
    } finally {
      clearTimeout(timer);
    }
  }
  if (first) throw first;
}
