import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Scopes an API key may hold. */
export const SCOPES = ['tasks:read', 'tasks:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** One configured key: its name (for logs) and the SHA-256 digest of its secret. */
export interface ApiKey {
  name: string;
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Parses `API_KEYS` (`name:secret,…`, a secret may be `sha256:<hex>`) and
 * `API_KEY_SCOPES` (`name=scope+scope;…`). Throws a message naming the
 * variable and entry on any malformed input; secrets never appear in it.
 */
export function parseApiKeys(keys: string | undefined, scopes: string | undefined): ApiKey[] {
  const scopeMap = parseScopes(scopes);
  const result: ApiKey[] = [];
  for (const [index, raw] of (keys ?? '').split(',').entries()) {
    const entry = raw.trim();
    if (!entry) continue;
    const cut = entry.indexOf(':');
    const name = cut > 0 ? entry.slice(0, cut) : '';
    const secret = cut > 0 ? entry.slice(cut + 1) : '';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || !secret) {
      throw new Error(`API_KEYS: entry ${index + 1} must be name:secret (name of letters, digits, _ . -)`);
    }
    if (result.some((k) => k.name === name)) throw new Error(`API_KEYS: key name "${name}" appears twice`);
    let digest: Buffer;
    if (secret.startsWith('sha256:')) {
      const hex = secret.slice(7);
      if (!/^[0-9a-fA-F]{64}$/.test(hex))
        throw new Error(`API_KEYS: key "${name}" has a sha256: digest that is not 64 hex digits`);
      digest = Buffer.from(hex, 'hex');
    } else {
      if (secret.length < 16) throw new Error(`API_KEYS: key "${name}" is shorter than 16 characters`);
      digest = sha256(secret);
    }
    result.push({ name, digest, scopes: scopeMap.get(name) ?? new Set(SCOPES) });
  }
  for (const name of scopeMap.keys()) {
    if (!result.some((k) => k.name === name)) throw new Error(`API_KEY_SCOPES: names unknown key "${name}"`);
  }
  return result;
}

function parseScopes(value: string | undefined): Map<string, Set<Scope>> {
  const map = new Map<string, Set<Scope>>();
  for (const raw of (value ?? '').split(';')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [name, list] = entry.split('=', 2);
    if (!name || list === undefined) throw new Error(`API_KEY_SCOPES: "${entry}" must be name=scope+scope`);
    const scopes = new Set<Scope>();
    for (const s of list.split('+').map((x) => x.trim())) {
      if (!SCOPES.includes(s as Scope))
        throw new Error(`API_KEY_SCOPES: unknown scope "${s}" for ${name}; known: ${SCOPES.join(', ')}`);
      scopes.add(s as Scope);
    }
    map.set(name.trim(), scopes);
  }
  return map;
}

/**
 * Finds the key whose secret is `presented`. Compares digests in constant
 * time and always checks every key, so timing says nothing about which
 * prefix or which key matched.
 *
 * A string that matched once is remembered (per key list), so a client
 * calling with its key skips the SHA-256 (~2 µs, a visible share of an
 * enqueue). Only strings that are valid keys enter the map, so it holds at
 * most one entry per configured key, and a wrong guess always takes the full
 * path: hashing plus every comparison. The one thing timing can tell is that
 * a string is a valid key, which only its holder can present.
 */
export function matchApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  let known = matched.get(keys);
  const hit = known?.get(presented);
  if (hit) return hit;
  const digest = sha256(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && !found) found = key;
  }
  if (found) {
    if (!known) {
      known = new Map();
      matched.set(keys, known);
    }
    // At most one string per key: the digest is of the exact string.
    known.set(presented, found);
  }
  return found;
}

/** Presented strings that matched, per key list (see {@link matchApiKey}). */
const matched = new WeakMap<readonly ApiKey[], Map<string, ApiKey>>();

/** A fresh development key: 32 random bytes, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}
