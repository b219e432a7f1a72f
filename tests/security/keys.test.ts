/**
 * Keys are compared in constant time. Timing itself is not asserted (no timed assertions); instead
 * the test checks the property that makes the comparison constant-time: the presented key reaches
 * `crypto.timingSafeEqual` against the stored one, for a key wrong in its first byte as for one wrong
 * in its last, rather than being matched by an index lookup or `===`, which stop at the first
 * difference. Run against the real SQLite store.
 */
import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUTH_KEY_LENGTH, keysEqual } from '@whirl/core';
import { openSqliteStores } from '@whirl/store';

const uuid = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502';
const key = 'k'.repeat(AUTH_KEY_LENGTH - 1) + 'z';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('key comparison', () => {
  it('goes through timingSafeEqual with the stored key, right or wrong', async () => {
    const stores = openSqliteStores(':memory:');
    try {
      await stores.subjects.putSubject({ subject: 'guest', namespaces: [{ name: 'guest', uuid, key }] });
      const spy = vi.spyOn(crypto, 'timingSafeEqual');
      const wrongFirst = 'x' + key.slice(1);
      const wrongLast = key.slice(0, -1) + 'x';
      for (const candidate of [wrongFirst, wrongLast]) {
        spy.mockClear();
        expect(await stores.subjects.identify(uuid, candidate)).toBeUndefined();
        const compared = spy.mock.calls.map(([a, b]) => [Buffer.from(a as Uint8Array).toString(), Buffer.from(b as Uint8Array).toString()]);
        expect(compared).toContainEqual([candidate, key]);
      }
      spy.mockClear();
      expect((await stores.subjects.identify(uuid, key))?.subject).toBe('guest');
      expect(spy).toHaveBeenCalled();
    } finally {
      await stores.close();
    }
  });

  it('keysEqual tells equal from unequal keys of any length', () => {
    expect(keysEqual(key, key)).toBe(true);
    expect(keysEqual(key, key.slice(0, -1) + 'y')).toBe(false);
    expect(keysEqual(key, key.slice(1))).toBe(false);
    expect(keysEqual('', '')).toBe(true);
  });
});
