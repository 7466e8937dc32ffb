import { describe, expect, it } from 'vitest';
import { LocalWindowStore, type WindowCount, type WindowStore } from './window-limiter.js';

/** One count through the store interface, as the limiter calls it (the local store answers at once). */
const incr = (store: WindowStore, key: string, windowMs = 60_000) => {
  let out: WindowCount | null = null;
  store.incr(
    key,
    (_err, res) => {
      out = res;
    },
    windowMs,
    0,
  );
  return out as unknown as WindowCount;
};

describe('LocalWindowStore', () => {
  it('counts per key within a window, and answers at once', () => {
    const store = new LocalWindowStore();
    expect([1, 2, 3].map(() => incr(store, 'key:a').current)).toEqual([1, 2, 3]);
    expect(incr(store, 'key:b').current).toBe(1);
    // Reading a window does not count in it.
    expect(store.peek('key:a')?.current).toBe(3);
    expect(store.peek('key:none')).toBeUndefined();
    const { ttl } = incr(store, 'key:a');
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('starts a new window once the old one ends', async () => {
    const store = new LocalWindowStore();
    incr(store, 'ip:1', 50);
    expect(incr(store, 'ip:1', 50).current).toBe(2);
    await new Promise((r) => setTimeout(r, 80));
    expect(incr(store, 'ip:1', 50)).toMatchObject({ current: 1, ttl: 50 });
  });
});
