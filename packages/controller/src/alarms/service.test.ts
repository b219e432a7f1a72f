import { describe, expect, it } from 'vitest';
import type { AlarmSchedule, ScheduleStore } from '@whirl/core';
import { AlarmService, type AlarmClock, type FireResult } from './service.js';

class FakeClock implements AlarmClock {
  t = Date.parse('2030-01-01T00:00:00Z');
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  pending(): number {
    return this.timers.size;
  }
  /** Advances time, running due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = [...this.timers.entries()].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function memoryStore(): ScheduleStore & { map: Map<string, AlarmSchedule> } {
  const map = new Map<string, AlarmSchedule>();
  return {
    map,
    get: async (id) => map.get(id),
    put: async (s) => void map.set(s.id, structuredClone(s)),
    delete: async (id) => map.delete(id),
    list: async () => [...map.values()],
    close: async () => undefined,
  };
}

function schedule(clock: FakeClock, over: Partial<AlarmSchedule> = {}): AlarmSchedule {
  return {
    id: 'guest/t',
    namespace: 'guest',
    trigger: 't',
    feed: 'alarm',
    config: { payload: { x: 1 }, cron: '* * * * * *' },
    authKey: 'u:k',
    active: true,
    dateChanged: clock.now(),
    fireCount: 0,
    created: clock.now(),
    ...over,
  };
}

function setup(results: (n: number) => FireResult = () => ({ status: 202 })) {
  const clock = new FakeClock();
  const store = memoryStore();
  const fires: number[] = [];
  const service = new AlarmService({
    store,
    clock,
    retry: { attempts: 4, baseMs: 100, maxMs: 1000 },
    fire: async () => {
      fires.push(clock.now());
      return results(fires.length);
    },
  });
  return { clock, store, fires, service };
}

describe('AlarmService', () => {
  it('fires every second with a 6-field cron and stops after delete', async () => {
    const { clock, fires, service } = setup();
    await service.start();
    await service.put(schedule(clock));
    await clock.advance(3000);
    expect(fires.length).toBe(3);
    await service.delete('guest/t');
    await clock.advance(5000);
    expect(fires.length).toBe(3);
    expect(clock.pending()).toBe(0);
  });

  it('retries 5xx and 429 with exponential back-off, then goes on with the schedule', async () => {
    const { clock, fires, service, store } = setup((n) => ({ status: n <= 2 ? 503 : 202 }));
    await service.start();
    await service.put(schedule(clock, { config: { payload: {}, cron: '0 * * * * *' } }));
    await clock.advance(61_000);
    const t = fires[0]!;
    expect(fires.map((f) => f - t)).toEqual([0, 100, 300]);
    expect(store.map.get('guest/t')).toMatchObject({ active: true, fireCount: 1 });
  });

  it('disables the schedule when the trigger is gone', async () => {
    const { clock, fires, service, store } = setup(() => ({ status: 404, message: 'The requested resource does not exist.' }));
    await service.start();
    await service.put(schedule(clock));
    await clock.advance(5000);
    expect(fires.length).toBe(1);
    expect(store.map.get('guest/t')).toMatchObject({ active: false, reason: { kind: 'AUTO', statusCode: 404 } });
  });

  it('disables after repeated 429s', async () => {
    const { clock, fires, service, store } = setup(() => ({ status: 429 }));
    await service.start();
    await service.put(schedule(clock));
    await clock.advance(5000);
    expect(fires.length).toBe(4);
    expect(store.map.get('guest/t')).toMatchObject({ active: false, reason: { statusCode: 429 } });
  });

  it('fires a missed occurrence once on start, then continues on schedule', async () => {
    const { clock, fires, service, store } = setup();
    const s = schedule(clock, { config: { payload: {}, cron: '0 * * * * *' }, nextFire: clock.now() - 3600_000 });
    await store.put(s);
    await service.start();
    await clock.advance(0);
    expect(fires.length).toBe(1);
    const next = store.map.get('guest/t')!.nextFire!;
    expect(next).toBeGreaterThan(clock.now());
    await clock.advance(60_000);
    expect(fires.length).toBe(2);
  });

  it('once: fires at its date, then is inactive (deleteAfterFire false)', async () => {
    const { clock, fires, service, store } = setup();
    await service.start();
    await service.put(schedule(clock, { feed: 'once', config: { payload: {}, date: clock.now() + 2000 } }));
    await clock.advance(10_000);
    expect(fires.length).toBe(1);
    expect(store.map.get('guest/t')).toMatchObject({ active: false, fireCount: 1 });
  });

  it('stop() clears every timer', async () => {
    const { clock, fires, service } = setup();
    await service.start();
    await service.put(schedule(clock));
    await service.stop();
    expect(clock.pending()).toBe(0);
    await clock.advance(5000);
    expect(fires.length).toBe(0);
  });
  it('picks up schedules another controller wrote, when reconciling as the leader', async () => {
    const { clock, store, fires, service: leader } = setup();
    // The other controller serves feed calls but does not run timers (it does not hold the lease).
    const other = new AlarmService({ store, clock, fire: async () => ({ status: 500 }) });
    await leader.start();
    await other.put(schedule(clock));
    expect(clock.pending()).toBe(0);
    await leader.reconcile();
    await clock.advance(3000);
    expect(fires.length).toBe(3);
    // A PAUSE, then a DELETE, through the other controller.
    const s = (await store.get('guest/t'))!;
    await other.put({ ...s, active: false });
    await leader.reconcile();
    await clock.advance(3000);
    expect(fires.length).toBe(3);
    await other.put({ ...s, active: true });
    await leader.reconcile();
    await clock.advance(1000);
    expect(fires.length).toBe(4);
    await other.delete('guest/t');
    await leader.reconcile();
    await clock.advance(3000);
    expect(fires.length).toBe(4);
    expect(clock.pending()).toBe(0);
    await leader.stop();
  });
});
