import { Backoffs } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { retryDelayMs, retrySchedule } from './backoff.js';

describe('retryDelayMs', () => {
  it('doubles the delay each retry: retry_delay × 2^(n-1)', () => {
    expect(retrySchedule(4, 60)).toEqual([60_000, 120_000, 240_000, 480_000]);
  });

  it('agrees with BullMQ’s built-in exponential strategy, which runs the real retries', () => {
    for (const delay of [0, 0.05, 1, 7, 60, 3600]) {
      for (let n = 1; n <= 8; n++) {
        const bull = Backoffs.calculate(
          { type: 'exponential', delay: Math.round(delay * 1000) },
          n,
          new Error('x'),
          {} as never,
        );
        expect(retryDelayMs(n, delay)).toBe(bull);
      }
    }
  });

  it('keeps jittered delays within [raw × (1 - jitter), raw]', () => {
    expect(retryDelayMs(3, 10, 0.5, () => 0)).toBe(20_000);
    expect(retryDelayMs(3, 10, 0.5, () => 0.999_999)).toBe(39_999);
  });

  it('rejects nonsense rather than computing it', () => {
    expect(() => retryDelayMs(0, 60)).toThrow(RangeError);
    expect(() => retryDelayMs(1, -1)).toThrow(RangeError);
    expect(() => retryDelayMs(1, 1, 2)).toThrow(RangeError);
  });
});
