/** The Authenticator against a real (in-memory) SQLite subject store: verification, cache, invalidation. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError, newCredential, storedCredential, type NamespaceCredential, type SubjectStore } from '@whirl/core';
import { openSqliteStores, type SqliteStores } from '@whirl/store';
import { Authenticator, type AuthInvalidation } from './auth.js';

const basic = (c: NamespaceCredential): string => `Basic ${Buffer.from(`${c.uuid}:${c.key}`).toString('base64')}`;

/** Counts credential lookups, so that tests can tell a cache hit from a verification. */
function counting(store: SubjectStore): { store: SubjectStore; lookups: () => number } {
  let n = 0;
  return {
    store: new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'credential') return (uuid: string) => ((n += 1), target.credential(uuid));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }),
    lookups: () => n,
  };
}

describe('Authenticator', () => {
  let stores: SqliteStores;
  let cred: NamespaceCredential;
  beforeEach(async () => {
    stores = openSqliteStores(':memory:');
    cred = newCredential('alice');
    await stores.subjects.putSubject({ subject: 'alice', namespaces: [await storedCredential(cred)] });
  });
  afterEach(async () => {
    await stores.close();
  });

  it('verifies a key once and serves repeats from the cache; a wrong key is refused', async () => {
    const c = counting(stores.subjects);
    const auth = new Authenticator(c.store);
    const [a, b] = await Promise.all([auth.require(basic(cred)), auth.require(basic(cred))]);
    expect(a).toEqual({ subject: 'alice', namespace: cred, limits: {} });
    expect(b).toEqual(a);
    await auth.require(basic(cred));
    expect(c.lookups()).toBe(1);
    await expect(auth.require(basic({ ...cred, key: 'x'.repeat(64) }))).rejects.toBeInstanceOf(UnauthorizedError);
    // The wrong guess did not evict the verified entry.
    await auth.require(basic(cred));
    expect(c.lookups()).toBe(2);
    await expect(auth.identify('Basic bm90LWEtcGFpcg==')).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(auth.require(undefined)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('drops cached entries on invalidation by subject or namespace, and tells the others', async () => {
    const c = counting(stores.subjects);
    const auth = new Authenticator(c.store);
    const told: AuthInvalidation[] = [];
    auth.onLocalChange = (x) => told.push(x);
    await auth.require(basic(cred));
    await stores.subjects.putSubject({ subject: 'alice', namespaces: [await storedCredential(cred)], blocked: true });
    // Still cached: the store change alone is not seen before the TTL.
    expect((await auth.require(basic(cred))).subject).toBe('alice');
    auth.invalidate({ subject: 'alice' });
    expect(told).toEqual([{ subject: 'alice' }]);
    await expect(auth.require(basic(cred))).rejects.toBeInstanceOf(ForbiddenError);
    await stores.subjects.putSubject({ subject: 'alice', namespaces: [await storedCredential(cred)] });
    await stores.subjects.putLimits('alice', { invocationsPerMinute: 3 });
    auth.invalidateRemote({ namespace: 'alice' });
    expect((await auth.require(basic(cred))).limits).toEqual({ invocationsPerMinute: 3 });
    expect(told).toHaveLength(1);
  });

  it('keeps at most maxEntries credentials', async () => {
    const c = counting(stores.subjects);
    const auth = new Authenticator(c.store, { maxEntries: 1 });
    const other = newCredential('bob');
    await stores.subjects.putSubject({ subject: 'bob', namespaces: [await storedCredential(other)] });
    await auth.require(basic(cred));
    await auth.require(basic(other));
    await auth.require(basic(cred));
    expect(c.lookups()).toBe(3);
  });
});
