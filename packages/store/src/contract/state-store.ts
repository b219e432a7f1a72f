/** Conformance suite for StateStore adapters (feed state and leases). */
import { describe, expect, it } from 'vitest';
import type { StateStore } from '@whirl/core';
import type { StoreHarness } from './entity-store.js';

export function describeStateStoreContract(name: string, make: () => Promise<StoreHarness<StateStore>>): void {
  describe(`StateStore contract: ${name}`, () => {
    it('puts, gets, replaces, lists by prefix and deletes documents', async () => {
      const { store, cleanup } = await make();
      try {
        expect(await store.get('feed:kafka:guest/t')).toBeUndefined();
        await store.put('feed:kafka:guest/t', { a: 1 });
        await store.put('feed:kafka:guest/t_2', { a: 2 });
        await store.put('feed:couchdb:guest/t', { b: 1 });
        await store.put('feed:kafka:guest/t', { a: 3 });
        expect(await store.get('feed:kafka:guest/t')).toEqual({ a: 3 });
        expect(await store.list('feed:kafka:')).toEqual([
          { id: 'feed:kafka:guest/t', doc: { a: 3 } },
          { id: 'feed:kafka:guest/t_2', doc: { a: 2 } },
        ]);
        expect(await store.delete('feed:kafka:guest/t')).toBe(true);
        expect(await store.delete('feed:kafka:guest/t')).toBe(false);
        expect((await store.list('feed:')).map((r) => r.id)).toEqual(['feed:couchdb:guest/t', 'feed:kafka:guest/t_2']);
      } finally {
        await cleanup();
      }
    });

    it('gives a lease to one holder until it expires or is released', async () => {
      const { store, cleanup } = await make();
      try {
        expect(await store.acquireLease('feeds', 'c0', 1000, 10_000)).toBe(true);
        expect(await store.acquireLease('feeds', 'c1', 1000, 10_500)).toBe(false);
        // The holder renews.
        expect(await store.acquireLease('feeds', 'c0', 1000, 10_900)).toBe(true);
        expect(await store.acquireLease('feeds', 'c1', 1000, 11_800)).toBe(false);
        // Expired: taken over.
        expect(await store.acquireLease('feeds', 'c1', 1000, 12_000)).toBe(true);
        expect(await store.acquireLease('feeds', 'c0', 1000, 12_100)).toBe(false);
        await store.releaseLease('feeds', 'c0');
        expect(await store.acquireLease('feeds', 'c0', 1000, 12_200)).toBe(false);
        await store.releaseLease('feeds', 'c1');
        expect(await store.acquireLease('feeds', 'c0', 1000, 12_300)).toBe(true);
        // Concurrent takers of a free lease: exactly one wins.
        const wins = await Promise.all(['a', 'b', 'c'].map((h) => store.acquireLease('other', h, 1000, 20_000)));
        expect(wins.filter(Boolean)).toHaveLength(1);
      } finally {
        await cleanup();
      }
    });
  });
}
