import { describe, expect, it } from 'vitest';
import { matchApiKey, parseApiKeys } from './api-keys.js';

describe('matchApiKey', () => {
  const keys = parseApiKeys('crm:crm-secret-0123456789,ops:ops-secret-0123456789', 'ops=tasks:read');

  it('finds a key by its secret, the first time and when it answers from memory', () => {
    for (let i = 0; i < 3; i++) {
      expect(matchApiKey(keys, 'crm-secret-0123456789')?.name).toBe('crm');
      expect(matchApiKey(keys, 'ops-secret-0123456789')?.name).toBe('ops');
    }
  });

  it('never matches a near miss, before or after the real key was seen', () => {
    const fresh = parseApiKeys('crm:crm-secret-0123456789', '');
    const misses = ['crm-secret-012345678', 'crm-secret-01234567890', 'CRM-secret-0123456789', ''];
    for (const miss of misses) expect(matchApiKey(fresh, miss)).toBeUndefined();
    expect(matchApiKey(fresh, 'crm-secret-0123456789')?.name).toBe('crm');
    for (const miss of misses) expect(matchApiKey(fresh, miss)).toBeUndefined();
  });

  it('remembers per key list: a secret valid in one list is not valid in another', () => {
    const other = parseApiKeys('crm:another-secret-0123456789', '');
    expect(matchApiKey(keys, 'crm-secret-0123456789')?.name).toBe('crm');
    expect(matchApiKey(other, 'crm-secret-0123456789')).toBeUndefined();
  });
});
