/** Conformance suite every EntityStore adapter must pass (SQLite now, CouchDB later). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, type EntityStore, type WhiskEntity } from '@whirl/core';
import { action, pkg, rule, trigger } from './fixtures.js';

export interface StoreHarness<S> {
  store: S;
  cleanup(): Promise<void>;
}

const names = (list: readonly WhiskEntity[]): string[] => list.map((e) => `${e.namespace}/${e.name}`);

export function describeEntityStoreContract(name: string, make: () => Promise<StoreHarness<EntityStore>>): void {
  describe(`EntityStore contract: ${name}`, () => {
    let h: StoreHarness<EntityStore>;
    let store: EntityStore;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('creates, gets, updates and deletes', async () => {
      expect(await store.get('guest/hello')).toBeUndefined();
      const created = await store.create(action('guest', 'hello', 1000));
      expect(created.rev).toMatch(/^1-[0-9a-f]+$/);
      const got = await store.get('guest/hello');
      expect(got).toEqual({ rev: created.rev, doc: action('guest', 'hello', 1000) });

      const changed = { ...action('guest', 'hello', 2000), version: '0.0.2' };
      const updated = await store.update(changed, created.rev);
      expect(updated.rev).toMatch(/^2-[0-9a-f]+$/);
      expect(updated.rev).not.toBe(created.rev);
      expect((await store.get('guest/hello'))?.doc.version).toBe('0.0.2');

      await store.delete('guest/hello', updated.rev);
      expect(await store.get('guest/hello')).toBeUndefined();
    });

    it('deletes every entity of a namespace and its packages, and nothing of other namespaces', async () => {
      await store.create(action('guest', 'a', 1));
      await store.create(pkg('guest', 'utils', 2));
      await store.create(action('guest/utils', 'b', 3));
      await store.create(trigger('guest', 't', 4));
      await store.create(rule('guest', 'r', 5));
      await store.create(action('guestbook', 'c', 6));
      expect((await store.deleteNamespace('guest')).sort()).toEqual(['guest/a', 'guest/r', 'guest/t', 'guest/utils', 'guest/utils/b']);
      expect(await store.get('guest/utils/b')).toBeUndefined();
      expect(await store.count({ entityType: 'action', namespace: 'guest', includePackages: true })).toBe(0);
      expect(await store.get('guestbook/c')).toBeDefined();
      expect(await store.deleteNamespace('guest')).toEqual([]);
      await store.create(action('guest', 'a', 7));
      expect((await store.get('guest/a'))?.doc.updated).toBe(7);
    });

    it('keys entities inside packages by ns/pkg/name', async () => {
      await store.create(action('guest/utils', 'echo', 1));
      expect((await store.get('guest/utils/echo'))?.doc).toMatchObject({ namespace: 'guest/utils', name: 'echo' });
      expect(await store.get('guest/echo')).toBeUndefined();
    });

    it('rejects a duplicate create, whatever the entity type', async () => {
      await store.create(action('guest', 'thing', 1));
      await expect(store.create(action('guest', 'thing', 2))).rejects.toThrow(ConflictError);
      await expect(store.create(trigger('guest', 'thing', 2))).rejects.toMatchObject({
        code: 'ENTITY_EXISTS',
        statusCode: 409,
        message: 'resource already exists',
      });
      expect((await store.get('guest/thing'))?.doc.entityType).toBe('action');
    });

    it('rejects update and delete with a stale revision', async () => {
      const first = await store.create(trigger('guest', 't', 1));
      const second = await store.update(trigger('guest', 't', 2), first.rev);
      await expect(store.update(trigger('guest', 't', 3), first.rev)).rejects.toMatchObject({
        code: 'CONCURRENT_MODIFICATION',
        statusCode: 409,
        message: 'Concurrent modification to resource detected.',
      });
      await expect(store.delete('guest/t', first.rev)).rejects.toThrow(ConflictError);
      expect((await store.get('guest/t'))?.rev).toBe(second.rev);
    });

    it('rejects update of a missing document and reports a missing delete as not found', async () => {
      await expect(store.update(rule('guest', 'gone', 1), '1-abc')).rejects.toThrow(ConflictError);
      await expect(store.delete('guest/gone', '1-abc')).rejects.toThrow(NotFoundError);
    });

    it('lists by type and namespace, newest updated first, with limit and skip', async () => {
      await store.create(action('guest', 'a', 100));
      await store.create(action('guest', 'b', 300));
      await store.create(action('guest', 'c', 200));
      await store.create(action('guest', 'd', 200));
      await store.create(trigger('guest', 'trig', 500));
      await store.create(action('other', 'x', 400));
      await store.create(action('guest/pkg', 'inner', 1000));

      const q = { entityType: 'action' as const, namespace: 'guest' };
      expect(names(await store.list({ ...q, limit: 30, skip: 0 }))).toEqual(['guest/b', 'guest/c', 'guest/d', 'guest/a']);
      expect(names(await store.list({ ...q, limit: 2, skip: 1 }))).toEqual(['guest/c', 'guest/d']);
      expect(names(await store.list({ ...q, limit: 30, skip: 10 }))).toEqual([]);
      expect(await store.count(q)).toBe(4);
      expect(names(await store.list({ entityType: 'trigger', namespace: 'guest', limit: 30, skip: 0 }))).toEqual(['guest/trig']);
      expect(await store.count({ entityType: 'rule', namespace: 'guest' })).toBe(0);
    });

    it('reflects updates in list order', async () => {
      const a = await store.create(action('guest', 'a', 100));
      await store.create(action('guest', 'b', 200));
      await store.update(action('guest', 'a', 300), a.rev);
      expect(names(await store.list({ entityType: 'action', namespace: 'guest', limit: 30, skip: 0 }))).toEqual(['guest/a', 'guest/b']);
    });

    it('includes actions inside packages only when asked', async () => {
      await store.create(action('guest', 'top', 100));
      await store.create(pkg('guest', 'p1', 50));
      await store.create(action('guest/p1', 'inner', 200));
      await store.create(action('guest/p2', 'inner2', 150));
      await store.create(action('guests', 'lookalike', 300));
      await store.create(action('guests/p', 'lookalike2', 300));

      const base = { entityType: 'action' as const, namespace: 'guest' };
      expect(names(await store.list({ ...base, limit: 30, skip: 0 }))).toEqual(['guest/top']);
      expect(names(await store.list({ ...base, includePackages: true, limit: 30, skip: 0 }))).toEqual([
        'guest/p1/inner',
        'guest/p2/inner2',
        'guest/top',
      ]);
      expect(await store.count({ ...base, includePackages: true })).toBe(3);
      expect(names(await store.list({ entityType: 'action', namespace: 'guest/p1', limit: 30, skip: 0 }))).toEqual(['guest/p1/inner']);
      expect(names(await store.list({ entityType: 'action', namespace: 'guest/p1', includePackages: true, limit: 30, skip: 0 }))).toEqual([
        'guest/p1/inner',
      ]);
    });

    it('filters published entities', async () => {
      await store.create(pkg('sys', 'public', 100, true));
      await store.create(pkg('sys', 'private', 200, false));
      const q = { entityType: 'package' as const, namespace: 'sys' };
      expect(names(await store.list({ ...q, publishedOnly: true, limit: 30, skip: 0 }))).toEqual(['sys/public']);
      expect(await store.count({ ...q, publishedOnly: true })).toBe(1);
      expect(await store.count(q)).toBe(2);
    });

    it('tracks publish changes on update', async () => {
      const p = await store.create(pkg('sys', 'p', 100, false));
      await store.update(pkg('sys', 'p', 200, true), p.rev);
      expect(await store.count({ entityType: 'package', namespace: 'sys', publishedOnly: true })).toBe(1);
    });
  });
}
