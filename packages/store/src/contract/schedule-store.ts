/** Conformance suite for ScheduleStore adapters (alarm schedules). */
import { describe, expect, it } from 'vitest';
import type { AlarmSchedule, ScheduleStore } from '@whirl/core';
import type { StoreHarness } from './entity-store.js';

const schedule = (id: string, over: Partial<AlarmSchedule> = {}): AlarmSchedule => ({
  id,
  namespace: 'guest',
  trigger: id.split('/')[1] ?? id,
  feed: 'alarm',
  config: { cron: '*/5 * * * * *', payload: { a: 1 } },
  authKey: 'u:k',
  active: true,
  dateChanged: 1,
  fireCount: 0,
  created: 1,
  ...over,
});

export function describeScheduleStoreContract(name: string, make: () => Promise<StoreHarness<ScheduleStore>>): void {
  describe(`ScheduleStore contract: ${name}`, () => {
    it('puts, gets, replaces, lists and deletes schedules', async () => {
      const { store, cleanup } = await make();
      try {
        expect(await store.get('guest/t1')).toBeUndefined();
        await store.put(schedule('guest/t1'));
        await store.put(schedule('guest/t2', { feed: 'interval', config: { minutes: 2, payload: {} } }));
        expect(await store.get('guest/t1')).toEqual(schedule('guest/t1'));
        await store.put(schedule('guest/t1', { fireCount: 3, lastFire: 99, active: false }));
        expect(await store.get('guest/t1')).toMatchObject({ fireCount: 3, lastFire: 99, active: false });
        const all = await store.list();
        expect(all.map((s) => s.id).sort()).toEqual(['guest/t1', 'guest/t2']);
        expect(await store.delete('guest/t1')).toBe(true);
        expect(await store.delete('guest/t1')).toBe(false);
        expect((await store.list()).map((s) => s.id)).toEqual(['guest/t2']);
      } finally {
        await cleanup();
      }
    });
  });
}
