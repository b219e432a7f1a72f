/** Conformance suite every SubjectStore adapter must pass. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredCredential, Subject, SubjectStore } from '@whirl/core';
import type { StoreHarness } from './entity-store.js';

/** Stores never look inside a hash; any string in the stored format will do. */
const cred = (name: string, uuid: string, c: string): StoredCredential => ({ name, uuid, keyHash: `scrypt$16384$8$1$${c}$${c}`, created: 1 });

const guest: Subject = {
  subject: 'guest',
  namespaces: [cred('guest', '23bc46b1-71f6-4ed5-8c54-816aa4f8c502', 'a')],
};

export function describeSubjectStoreContract(name: string, make: () => Promise<StoreHarness<SubjectStore>>): void {
  describe(`SubjectStore contract: ${name}`, () => {
    let h: StoreHarness<SubjectStore>;
    let store: SubjectStore;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('finds a credential by uuid, with its subject', async () => {
      await store.putSubject(guest);
      expect(await store.getSubject('guest')).toEqual(guest);
      expect(await store.credential(guest.namespaces[0]!.uuid)).toEqual({ subject: guest, credential: guest.namespaces[0] });
      expect(await store.credential('unknown')).toBeUndefined();
      expect(await store.getSubject('nobody')).toBeUndefined();
    });

    it('finds a blocked subject too, marked blocked', async () => {
      await store.putSubject({ ...guest, blocked: true });
      expect((await store.credential(guest.namespaces[0]!.uuid))?.subject.blocked).toBe(true);
      await store.putSubject({ ...guest, blocked: false });
      expect((await store.credential(guest.namespaces[0]!.uuid))?.subject.blocked).toBe(false);
    });

    it('resolves each of several namespaces and keys of one subject', async () => {
      const multi: Subject = {
        subject: 'alice',
        namespaces: [cred('alice', 'u-1', '1'), cred('alice-dev', 'u-2', '2'), cred('alice', 'u-3', '3')],
      };
      await store.putSubject(multi);
      expect((await store.credential('u-1'))?.credential).toEqual(multi.namespaces[0]);
      expect((await store.credential('u-2'))?.credential).toEqual(multi.namespaces[1]);
      expect((await store.credential('u-3'))?.credential).toEqual(multi.namespaces[2]);
    });

    it('re-indexes credentials when a subject is replaced (rotation)', async () => {
      await store.putSubject(guest);
      const rotated: Subject = { subject: 'guest', namespaces: [cred('guest', 'new-uuid', 'c')] };
      await store.putSubject(rotated);
      expect(await store.credential(guest.namespaces[0]!.uuid)).toBeUndefined();
      expect((await store.credential('new-uuid'))?.credential).toEqual(rotated.namespaces[0]);
    });

    it('deletes a subject and its credentials', async () => {
      await store.putSubject(guest);
      expect(await store.deleteSubject('guest')).toBe(true);
      expect(await store.deleteSubject('guest')).toBe(false);
      expect(await store.getSubject('guest')).toBeUndefined();
      expect(await store.credential(guest.namespaces[0]!.uuid)).toBeUndefined();
      await store.putSubject(guest);
      expect((await store.credential(guest.namespaces[0]!.uuid))?.subject.subject).toBe('guest');
    });

    it('lists subjects by name, with limit and skip', async () => {
      for (const n of ['carol', 'alice', 'bob']) await store.putSubject({ subject: n, namespaces: [cred(n, `u-${n}`, n)] });
      await store.putLimits('alice', { firesPerMinute: 1 });
      expect((await store.listSubjects({ limit: 10, skip: 0 })).map((s) => s.subject)).toEqual(['alice', 'bob', 'carol']);
      expect((await store.listSubjects({ limit: 1, skip: 1 })).map((s) => s.subject)).toEqual(['bob']);
    });

    it('round-trips, lists and deletes per-namespace limits', async () => {
      expect(await store.getLimits('guest')).toEqual({});
      await store.putLimits('guest', { invocationsPerMinute: 10, concurrentInvocations: 2, allowedKinds: ['nodejs:20'] });
      expect(await store.getLimits('guest')).toEqual({ invocationsPerMinute: 10, concurrentInvocations: 2, allowedKinds: ['nodejs:20'] });
      await store.putLimits('guest', { firesPerMinute: 1, retention: 0.5 });
      expect(await store.getLimits('guest')).toEqual({ firesPerMinute: 1, retention: 0.5 });
      expect(await store.getLimits('other')).toEqual({});
      await store.putLimits('other', { storeActivations: false });
      expect(await store.listLimits()).toEqual([
        { namespace: 'guest', limits: { firesPerMinute: 1, retention: 0.5 } },
        { namespace: 'other', limits: { storeActivations: false } },
      ]);
      await store.deleteLimits('guest');
      await store.deleteLimits('guest');
      expect(await store.getLimits('guest')).toEqual({});
      expect((await store.listLimits()).map((l) => l.namespace)).toEqual(['other']);
    });
  });
}
