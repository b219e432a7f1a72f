import { describe, expect, it } from 'vitest';
import type { AlarmSchedule } from '@whirl/core';
import { nextFireTime, planOnStart } from './schedule.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');

function schedule(over: Partial<AlarmSchedule>): AlarmSchedule {
  return {
    id: 'guest/t',
    namespace: 'guest',
    trigger: 't',
    feed: 'alarm',
    config: { payload: {} },
    authKey: 'u:k',
    active: true,
    dateChanged: T0,
    fireCount: 0,
    created: T0,
    ...over,
  };
}

describe('nextFireTime', () => {
  it('alarm: honours startDate and stopDate', () => {
    const s = schedule({ config: { payload: {}, cron: '0 * * * *', startDate: T0 + 3 * 3600_000, stopDate: T0 + 5 * 3600_000 } });
    expect(nextFireTime(s, T0)).toBe(T0 + 3 * 3600_000);
    expect(nextFireTime(s, T0 + 4 * 3600_000)).toBe(T0 + 5 * 3600_000);
    expect(nextFireTime(s, T0 + 5 * 3600_000)).toBeUndefined();
  });

  it('alarm: stops after maxTriggers fires', () => {
    const s = schedule({ config: { payload: {}, cron: '* * * * *', maxTriggers: 2 }, fireCount: 2 });
    expect(nextFireTime(s, T0)).toBeUndefined();
    expect(nextFireTime({ ...s, fireCount: 1 }, T0)).toBe(T0 + 60_000);
  });

  it('once: the date until it has fired', () => {
    const s = schedule({ feed: 'once', config: { payload: {}, date: T0 + 10_000 } });
    expect(nextFireTime(s, T0)).toBe(T0 + 10_000);
    expect(nextFireTime({ ...s, fireCount: 1 }, T0)).toBeUndefined();
  });

  it('interval: one period after creation, or from startDate, on a fixed grid', () => {
    const s = schedule({ feed: 'interval', config: { payload: {}, minutes: 2 } });
    expect(nextFireTime(s, T0)).toBe(T0 + 120_000);
    expect(nextFireTime(s, T0 + 120_000)).toBe(T0 + 240_000);
    expect(nextFireTime(s, T0 + 1_000_000)).toBe(T0 + 1_080_000);
    const started = schedule({ feed: 'interval', config: { payload: {}, minutes: 1, startDate: T0 + 5_000, stopDate: T0 + 70_000 } });
    expect(nextFireTime(started, T0)).toBe(T0 + 5_000);
    expect(nextFireTime(started, T0 + 5_000)).toBe(T0 + 65_000);
    expect(nextFireTime(started, T0 + 65_000)).toBeUndefined();
  });
});

describe('planOnStart', () => {
  it('fires a missed occurrence once, however many were missed', () => {
    const s = schedule({ config: { payload: {}, cron: '* * * * * *' }, nextFire: T0 });
    // Down for an hour: 3600 occurrences missed, one fire.
    expect(planOnStart(s, T0 + 3600_000)).toEqual({ fireNow: true, next: undefined });
  });

  it('keeps a future plan', () => {
    const s = schedule({ config: { payload: {}, cron: '0 0 * * *' }, nextFire: T0 + 86_400_000 });
    expect(planOnStart(s, T0)).toEqual({ fireNow: false, next: T0 + 86_400_000 });
  });
});
