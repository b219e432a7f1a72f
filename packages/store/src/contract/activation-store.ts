/** Conformance suite every ActivationStore adapter must pass. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { USAGE_BUCKET_MS, type ActivationRecord, type ActivationStore, type StatusCode } from '@whirl/core';
import type { StoreHarness } from './entity-store.js';
import { activation } from './fixtures.js';

const H = USAGE_BUCKET_MS;

/** An action activation that ran in a container with `memory` MB for `duration` ms. */
function billed(namespace: string, path: string, start: number, duration: number, memory = 256, statusCode: StatusCode = 0): ActivationRecord {
  const a = activation(namespace, path.split('/').pop()!, start, { path });
  return {
    ...a,
    end: start + duration,
    duration,
    response: { statusCode, result: {} },
    annotations: [...a.annotations, { key: 'limits', value: { timeout: 60000, memory, logs: 10, concurrency: 1 } }],
  };
}

const ids = (list: readonly ActivationRecord[]): string[] => list.map((a) => a.activationId);

export function describeActivationStoreContract(name: string, make: () => Promise<StoreHarness<ActivationStore>>): void {
  describe(`ActivationStore contract: ${name}`, () => {
    let h: StoreHarness<ActivationStore>;
    let store: ActivationStore;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('puts, gets and upserts', async () => {
      const a = activation('guest', 'hello', 1000, { path: 'guest/hello' });
      await store.put([a]);
      expect(await store.get('guest', a.activationId)).toEqual(a);
      const replaced = { ...a, response: { statusCode: 1 as const, result: { error: 'boom' } } };
      await store.put([replaced]);
      expect(await store.get('guest', a.activationId)).toEqual(replaced);
      expect(await store.count({ namespace: 'guest' })).toBe(1);
      await store.put([]);
    });

    it('keeps a record that is already there when asked to, and still adds the new ones', async () => {
      const real = activation('guest', 'hello', 1000, { path: 'guest/hello' });
      await store.put([real]);
      const standIn = { ...real, response: { statusCode: 3 as const, result: { error: 'lost' } } };
      const fresh = activation('guest', 'hello', 2000, { path: 'guest/hello' });
      await store.put([standIn, fresh], { keepExisting: true });
      expect(await store.get('guest', real.activationId)).toEqual(real);
      expect(await store.get('guest', fresh.activationId)).toEqual(fresh);
      expect(await store.count({ namespace: 'guest' })).toBe(2);
    });

    it('tells which activations have no record, in the order asked, one namespace apart from another', async () => {
      const a = activation('guest', 'hello', 1000, { path: 'guest/hello' });
      const b = activation('other', 'hello', 2000, { path: 'other/hello' });
      await store.put([a, b]);
      expect(await store.missing([])).toEqual([]);
      const asked = [
        { namespace: 'guest', activationId: 'nosuch1' },
        { namespace: 'guest', activationId: a.activationId },
        { namespace: 'guest', activationId: b.activationId },
        { namespace: 'other', activationId: b.activationId },
        { namespace: 'other', activationId: 'nosuch2' },
      ];
      expect(await store.missing(asked)).toEqual([asked[0], asked[2], asked[4]]);
      // More keys than one query takes at once.
      const many = Array.from({ length: 1_200 }, (_, i) => ({ namespace: 'guest', activationId: `x${i}` }));
      expect(await store.missing([...many, { namespace: 'guest', activationId: a.activationId }])).toEqual(many);
    });

    it('names the namespaces that have records', async () => {
      expect(await store.namespaces()).toEqual([]);
      await store.put([activation('b', 'x', 1), activation('a', 'x', 2), activation('b', 'y', 3), activation('c/pkg', 'z', 4)]);
      expect((await store.namespaces()).sort()).toEqual(['a', 'b', 'c/pkg']);
    });

    it('deletes records older than a time, oldest first, in batches, one namespace at a time', async () => {
      const old = [1000, 2000, 3000, 4000].map((t, i) => activation('guest', `old${i}`, t, { path: `guest/old${i}` }));
      const fresh = activation('guest', 'fresh', 5000, { path: 'guest/fresh' });
      const other = activation('other', 'theirs', 1000);
      await store.put([...old, fresh, other]);
      expect(await store.deleteOlderThan('guest', 5000, 3)).toBe(3);
      expect(ids(await store.list({ namespace: 'guest', limit: 30, skip: 0 }))).toEqual([fresh.activationId, old[3]!.activationId]);
      expect(await store.deleteOlderThan('guest', 5000, 3)).toBe(1);
      expect(await store.deleteOlderThan('guest', 5000, 3)).toBe(0);
      expect(await store.get('guest', fresh.activationId)).toEqual(fresh);
      expect(await store.get('other', other.activationId)).toEqual(other);
      expect(await store.count({ namespace: 'guest', name: 'old3' })).toBe(0);
      // A deleted record may be written again (an upsert after a sweep).
      await store.put([old[0]!]);
      expect(await store.get('guest', old[0]!.activationId)).toEqual(old[0]);
    });

    it('keeps namespaces apart', async () => {
      const a = activation('guest', 'hello', 1000, { path: 'guest/hello' });
      await store.put([a]);
      expect(await store.get('other', a.activationId)).toBeUndefined();
      expect(await store.list({ namespace: 'other', limit: 30, skip: 0 })).toEqual([]);
      // The same id may exist in two namespaces as two records.
      const b = { ...a, namespace: 'other', name: 'theirs' };
      await store.put([b]);
      expect((await store.get('guest', a.activationId))?.name).toBe('hello');
      expect((await store.get('other', a.activationId))?.name).toBe('theirs');
    });

    it('lists newest start first with limit, skip and inclusive since/upto', async () => {
      const recs = [100, 400, 200, 300, 500].map((s) => activation('guest', `a${s}`, s, { path: `guest/a${s}` }));
      await store.put(recs);
      await store.put([activation('other', 'x', 450, { path: 'other/x' })]);
      const byStart = (s: number): string => recs.find((r) => r.start === s)!.activationId;

      expect(ids(await store.list({ namespace: 'guest', limit: 30, skip: 0 }))).toEqual([500, 400, 300, 200, 100].map(byStart));
      expect(ids(await store.list({ namespace: 'guest', limit: 2, skip: 1 }))).toEqual([400, 300].map(byStart));
      expect(ids(await store.list({ namespace: 'guest', since: 200, upto: 400, limit: 30, skip: 0 }))).toEqual([400, 300, 200].map(byStart));
      expect(ids(await store.list({ namespace: 'guest', since: 401, limit: 30, skip: 0 }))).toEqual([500].map(byStart));
      expect(ids(await store.list({ namespace: 'guest', upto: 100, limit: 30, skip: 0 }))).toEqual([100].map(byStart));
      expect(await store.count({ namespace: 'guest' })).toBe(5);
      expect(await store.count({ namespace: 'guest', since: 200, upto: 400 })).toBe(3);
    });

    it('filters by name: plain, package, binding and trigger records', async () => {
      const plain = activation('guest', 'act', 100, { path: 'guest/act' });
      const inPkg = activation('guest', 'act', 200, { path: 'guest/pkg/act' });
      const foreign = activation('guest', 'echo', 300, { path: 'whisk.system/utils/echo' });
      const viaBinding = activation('guest', 'echo', 400, { path: 'whisk.system/utils/echo', binding: 'guest/mybinding' });
      const trig = activation('guest', 'mytrigger', 500);
      // Same action name in another package: a path-bearing record never matches on its bare name.
      const otherPkg = activation('guest', 'act', 600, { path: 'guest/other/act' });
      await store.put([plain, inPkg, foreign, viaBinding, trig, otherPkg]);

      const find = async (n: string): Promise<string[]> => ids(await store.list({ namespace: 'guest', name: n, limit: 30, skip: 0 }));
      expect(await find('act')).toEqual([plain.activationId]);
      expect(await find('pkg/act')).toEqual([inPkg.activationId]);
      expect(await find('utils/echo')).toEqual([viaBinding.activationId, foreign.activationId]);
      expect(await find('mybinding')).toEqual([viaBinding.activationId]);
      expect(await find('mytrigger')).toEqual([trig.activationId]);
      expect(await find('echo')).toEqual([]);
      expect(await find('nothing')).toEqual([]);

      expect(await store.count({ namespace: 'guest', name: 'utils/echo' })).toBe(2);
      expect(await store.count({ namespace: 'guest', name: 'mybinding' })).toBe(1);
      expect(await store.count({ namespace: 'other', name: 'act' })).toBe(0);
      expect(ids(await store.list({ namespace: 'guest', name: 'utils/echo', limit: 1, skip: 1 }))).toEqual([foreign.activationId]);
      expect(ids(await store.list({ namespace: 'guest', name: 'utils/echo', since: 350, limit: 30, skip: 0 }))).toEqual([
        viaBinding.activationId,
      ]);
    });

    it('re-keys the name filter on upsert', async () => {
      const a = activation('guest', 'act', 100, { path: 'guest/act' });
      await store.put([a]);
      await store.put([{ ...a, annotations: [{ key: 'path', value: 'guest/p/act' }] }]);
      expect(await store.count({ namespace: 'guest', name: 'act' })).toBe(0);
      expect(await store.count({ namespace: 'guest', name: 'p/act' })).toBe(1);
    });

    it('stores a large batch', async () => {
      const recs = Array.from({ length: 500 }, (_, i) => activation('guest', 'bulk', i, { path: 'guest/bulk' }));
      await store.put(recs);
      expect(await store.count({ namespace: 'guest', name: 'bulk' })).toBe(500);
      expect((await store.list({ namespace: 'guest', limit: 1, skip: 0 }))[0]?.start).toBe(499);
    });

    it('sums usage per action: invocations, errors, duration and MB·ms of billed (rounded-up, at least 1 ms) time', async () => {
      await store.put([
        billed('guest', 'guest/hello', 10 * H + 1, 100),
        billed('guest', 'guest/hello', 10 * H + 2, 0, 256, 1),
        billed('guest', 'guest/pkg/big', 11 * H, 30, 512, 2),
        // No limits annotation (a sequence): counted, bills nothing itself.
        { ...activation('guest', 'seq', 11 * H + 5, { path: 'guest/seq' }), duration: 40, end: 11 * H + 45 },
        // A trigger fire is not action usage; another namespace is not ours.
        activation('guest', 'trig', 10 * H + 3),
        billed('other', 'other/hello', 10 * H + 1, 100),
      ]);
      expect(await store.usage({ namespace: 'guest' })).toEqual([
        { action: 'guest/hello', invocations: 2, errors: 1, durationMs: 100, mbMs: 256 * 100 + 256 * 1 },
        { action: 'guest/pkg/big', invocations: 1, errors: 1, durationMs: 30, mbMs: 512 * 30 },
        { action: 'guest/seq', invocations: 1, errors: 0, durationMs: 40, mbMs: 0 },
      ]);
      expect(await store.usage({ namespace: 'nobody' })).toEqual([]);
    });

    it('bounds usage by inclusive since/upto, across whole and partial hours', async () => {
      const starts = [3 * H - 1, 3 * H, 3 * H + 10, 4 * H + 7, 5 * H - 1, 5 * H, 7 * H + 1];
      await store.put(starts.map((s) => billed('guest', 'guest/a', s, 10, 128)));
      const inv = async (since?: number, upto?: number): Promise<number> =>
        (await store.usage({ namespace: 'guest', ...(since !== undefined ? { since } : {}), ...(upto !== undefined ? { upto } : {}) }))[0]?.invocations ??
        0;
      const expected = (since: number, upto: number): number => starts.filter((s) => s >= since && s <= upto).length;
      const ranges: [number, number][] = [
        [3 * H, 5 * H - 1], // exactly two whole hours
        [3 * H - 1, 5 * H], // whole hours plus one record at each edge
        [3 * H + 1, 4 * H + 7], // inside and across one boundary
        [3 * H + 10, 3 * H + 10], // one instant
        [4 * H + 8, 5 * H - 2], // nothing
        [0, 100 * H],
      ];
      for (const [since, upto] of ranges) expect(await inv(since, upto)).toBe(expected(since, upto));
      expect(await inv(5 * H)).toBe(2);
      expect(await inv(undefined, 3 * H)).toBe(2);
      expect(await inv()).toBe(starts.length);
      const [u] = await store.usage({ namespace: 'guest', since: 3 * H, upto: 5 * H - 1 });
      expect(u).toEqual({ action: 'guest/a', invocations: 4, errors: 0, durationMs: 40, mbMs: 4 * 128 * 10 });
    });

    it('an upsert replaces the record’s earlier contribution, also when it moves to another hour', async () => {
      const a = billed('guest', 'guest/a', 2 * H + 5, 10);
      await store.put([a]);
      await store.put([{ ...billed('guest', 'guest/a', 6 * H, 20, 256, 3), activationId: a.activationId }]);
      expect(await store.usage({ namespace: 'guest' })).toEqual([{ action: 'guest/a', invocations: 1, errors: 1, durationMs: 20, mbMs: 256 * 20 }]);
      expect(await store.usage({ namespace: 'guest', upto: 6 * H - 1 })).toEqual([]);
      // Re-keyed to another action: the old one has nothing left.
      await store.put([{ ...billed('guest', 'guest/b', 6 * H, 20), activationId: a.activationId }]);
      expect((await store.usage({ namespace: 'guest' })).map((u) => u.action)).toEqual(['guest/b']);
    });
  });
}
