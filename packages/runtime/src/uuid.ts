import { randomFillSync } from 'node:crypto';

/** UUIDs drawn from one fill of the random buffer (Node's `randomUUID` caches 128 too). */
const UUIDS_PER_FILL = 128;
const pool = Buffer.allocUnsafe(UUIDS_PER_FILL * 16);
let next = UUIDS_PER_FILL;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const text = Buffer.allocUnsafe(36);

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes: 122 random bits
 * from the same source, refilled every 128 UUIDs. Node's builds its string
 * from twenty pieces joined one by one, and each later reader of the id (the
 * `X-Request-Id` header's check, the Redis command's size, the log line)
 * first copies those pieces into one string; this one is written as bytes
 * and read out as one string (making one and reading it twice: 364 → 185 ns;
 * docs/performance.md).
 */
export function randomUuid(): string {
  if (next === UUIDS_PER_FILL) {
    randomFillSync(pool);
    next = 0;
  }
  return uuidOf(pool, next++ * 16, 4);
}

/**
 * The 16 bytes of `bytes` from `offset` as a UUID of `version` (its version
 * digit and RFC 9562's variant bits set, `bytes` left as they are), as one
 * string.
 */
export function uuidOf(bytes: Uint8Array, offset: number, version: number): string {
  let p = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[p++] = 0x2d; // '-'
    let byte = bytes[offset + i]!;
    if (i === 6) byte = (byte & 0x0f) | (version << 4);
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10xx
    text[p++] = HEX[byte >> 4]!;
    text[p++] = HEX[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}
