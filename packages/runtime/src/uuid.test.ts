import { describe, expect, it } from 'vitest';
import { randomUuid } from './uuid.js';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomUuid', () => {
  it('makes version 4 UUIDs, never the same twice, across many refills of its random buffer', () => {
    const ids = Array.from({ length: 10_000 }, () => randomUuid());
    for (const id of ids) expect(id).toMatch(V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('varies every random digit: each takes all 16 values (the variant digit its 4) over many UUIDs', () => {
    const ids = Array.from({ length: 5_000 }, () => randomUuid());
    for (let i = 0; i < 36; i++) {
      const seen = new Set(ids.map((id) => id[i]));
      if ([8, 13, 18, 23].includes(i)) expect(seen).toEqual(new Set(['-']));
      else if (i === 14) expect(seen).toEqual(new Set(['4']));
      else expect(seen.size, `position ${i}`).toBe(i === 19 ? 4 : 16);
    }
  });
});
