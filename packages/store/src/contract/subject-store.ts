/** Conformance suite every SubjectStore adapter must pass. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Subject, SubjectStore } from '@whirl/core';
import type { StoreHarness } from './entity-store.js';

const key = (c: string): string => c.repeat(64);

const guest: Subject = {
  subject: 'guest',
  namespaces: [{ name: 'guest', uuid: '23bc46b1-71f6-4ed5-8c54-816aa4f8c502', key: key('a') }],
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

    it('identifies by uuid and key', async () => {
      await store.putSubject(guest);
      expect(await store.getSubject('guest')).toEqual(guest);
      expect(await store.identify(guest.namespaces[0]!.uuid, key('a'))).toEqual({
        subject: 'guest',
        namespace: guest.namespaces[0],
        limits: {},
      });
      expect(await store.identify(guest.namespaces[0]!.uuid, key('b'))).toBeUndefined();
      expect(await store.identify('unknown', key('a'))).toBeUndefined();
      expect(await store.getSubject('nobody')).toBeUndefined();
    });

    it('refuses a blocked subject, and accepts it again once unblocked', async () => {
      await store.putSubject({ ...guest, blocked: true });
      expect(await store.identify(guest.namespaces[0]!.uuid, key('a'))).toBeUndefined();
      await store.putSubject({ ...guest, blocked: false });
      expect((await store.identify(guest.namespaces[0]!.uuid, key('a')))?.subject).toBe('guest');
    });

    it('resolves each of several namespaces of one subject', async () => {
      const multi: Subject = {
        subject: 'alice',
        namespaces: [
          { name: 'alice', uuid: 'u-1', key: key('1') },
          { name: 'alice-dev', uuid: 'u-2', key: key('2') },
        ],
      };
      await store.putSubject(multi);
      await store.putLimits('alice-dev', { invocationsPerMinute: 5 });
      expect(await store.identify('u-1', key('1'))).toEqual({ subject: 'alice', namespace: multi.namespaces[0], limits: {} });
      expect(await store.identify('u-2', key('2'))).toEqual({
        subject: 'alice',
        namespace: multi.namespaces[1],
        limits: { invocationsPerMinute: 5 },
      });
      expect(await store.identify('u-1', key('2'))).toBeUndefined();
    });

    it('re-indexes credentials when a subject is replaced', async () => {
      await store.putSubject(guest);
      const rotated: Subject = { subject: 'guest', namespaces: [{ name: 'guest', uuid: 'new-uuid', key: key('c') }] };
      await store.putSubject(rotated);
      expect(await store.identify(guest.namespaces[0]!.uuid, key('a'))).toBeUndefined();
      expect((await store.identify('new-uuid', key('c')))?.namespace).toEqual(rotated.namespaces[0]);
    });

    it('round-trips per-namespace limits', async () => {
      expect(await store.getLimits('guest')).toEqual({});
      await store.putLimits('guest', { invocationsPerMinute: 10, concurrentInvocations: 2, allowedKinds: ['nodejs:20'] });
      expect(await store.getLimits('guest')).toEqual({ invocationsPerMinute: 10, concurrentInvocations: 2, allowedKinds: ['nodejs:20'] });
      await store.putLimits('guest', { firesPerMinute: 1 });
      expect(await store.getLimits('guest')).toEqual({ firesPerMinute: 1 });
      expect(await store.getLimits('other')).toEqual({});
      await store.putSubject(guest);
      expect((await store.identify(guest.namespaces[0]!.uuid, key('a')))?.limits).toEqual({ firesPerMinute: 1 });
    });
  });
}
