/**
 * Delay before retry number `attemptsMade` (1 = the retry after the first
 * failure), in milliseconds: `retryDelay × 2^(attemptsMade-1)` seconds.
 *
 * With `jitter` (0–1) that share of the delay is randomised downwards, the way
 * BullMQ's built-in `exponential` strategy does it, so the queue's own
 * backoff and this function agree (a test holds them together).
 */
export function retryDelayMs(
  attemptsMade: number,
  retryDelaySeconds: number,
  jitter = 0,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be a positive integer, got ${attemptsMade}`);
  }
  if (!(retryDelaySeconds >= 0)) {
    throw new RangeError(`retryDelaySeconds must be >= 0, got ${retryDelaySeconds}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`jitter must be within 0..1, got ${jitter}`);
  }
  const raw = 2 ** (attemptsMade - 1) * Math.round(retryDelaySeconds * 1000);
  if (jitter === 0) return raw;
  const min = raw * (1 - jitter);
  return Math.floor(random() * raw * jitter + min);
}

/** The whole schedule of retry delays (ms, no jitter) for a retry policy. */
export function retrySchedule(maxRetries: number, retryDelaySeconds: number): number[] {
  return Array.from({ length: maxRetries }, (_, i) => retryDelayMs(i + 1, retryDelaySeconds));
}
