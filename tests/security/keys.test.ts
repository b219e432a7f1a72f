/**
 * Keys are compared in constant time and kept only as hashes. Timing itself is not asserted (no timed
 * assertions); instead the test checks the property that makes the comparison constant-time: a
 * presented key is hashed with the stored salt and the two hashes meet in `crypto.timingSafeEqual`,
 * for a key wrong in its first byte as for one wrong in its last, rather than being matched by an
 * index lookup or `===`, which stop at the first difference. The store is the real SQLite one.
 */
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUTH_KEY_LENGTH, storedCredential, verifyKey } from '@whirl/core';
import { openSqliteStores } from '@whirl/store';

const uuid = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502';
const key = 'k'.repeat(AUTH_KEY_LENGTH - 1) + 'z';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('key comparison', () => {
  it('goes through timingSafeEqual against the stored hash, right or wrong', async () => {
    const cred = await storedCredential({ name: 'guest', uuid, key });
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    for (const candidate of ['x' + key.slice(1), key.slice(0, -1) + 'x']) {
      spy.mockClear();
      expect(await verifyKey(candidate, cred.keyHash)).toBe(false);
      expect(spy).toHaveBeenCalledTimes(1);
      const [a, b] = spy.mock.calls[0]! as [Uint8Array, Uint8Array];
      expect(a.length).toBe(b.length);
    }
    spy.mockClear();
    expect(await verifyKey(key, cred.keyHash)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('the store keeps no clear key', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'whirl-keys-'));
    try {
      const file = path.join(dir, 'whirl.db');
      const stores = openSqliteStores(file);
      await stores.subjects.putSubject({ subject: 'guest', namespaces: [await storedCredential({ name: 'guest', uuid, key })] });
      const found = await stores.subjects.credential(uuid);
      expect(JSON.stringify(found)).not.toContain(key);
      await stores.close();
      expect(readFileSync(file).includes(Buffer.from(key))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
