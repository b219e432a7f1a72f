import { describe, expect, it } from 'vitest';
import { effectiveUserLimits, TooManyRequestsError } from '@whirl/core';
import { Throttles, controllerShare } from './throttle.js';

describe('throttles', () => {
  it('allows the limit per calendar minute, then refuses with Retry-After until the next minute', () => {
    let now = 60_000 * 100 + 45_000;
    const t = new Throttles(() => 0, (l) => l, () => now);
    const limits = effectiveUserLimits({ invocationsPerMinute: 3 });
    for (let i = 0; i < 3; i++) t.invoke('ns', limits);
    let err: unknown;
    try {
      t.invoke('ns', limits);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TooManyRequestsError);
    expect((err as TooManyRequestsError).message).toBe('Too many requests in the last minute (count: 4, allowed: 3).');
    expect((err as TooManyRequestsError).headers['Retry-After']).toBe('15');
    t.invoke('other', limits);
    now += 15_000;
    t.invoke('ns', limits);
  });

  it('refuses when concurrent activations reach the limit', () => {
    let inFlight = 2;
    const t = new Throttles(() => inFlight);
    const limits = effectiveUserLimits({ concurrentInvocations: 2 });
    expect(() => t.invoke('ns', limits)).toThrow('Too many concurrent requests in flight (count: 2, allowed: 2).');
    inFlight = 1;
    t.invoke('ns', limits);
  });

  it('blocks everything with a limit of 0', () => {
    const t = new Throttles(() => 0);
    expect(() => t.fire('ns', effectiveUserLimits({ firesPerMinute: 0 }))).toThrow(/count: 1, allowed: 0/);
  });
});

describe('throttle shares', () => {
  it('gives each of several controllers its share of a limit, as OpenWhisk does', () => {
    const t = new Throttles(() => 0, controllerShare(2));
    const limits = effectiveUserLimits({ invocationsPerMinute: 10 });
    for (let i = 0; i < 6; i++) t.invoke('ns', limits);
    expect(() => t.invoke('ns', limits)).toThrow('Too many requests in the last minute (count: 7, allowed: 6).');
    expect(controllerShare(3)(1)).toBe(1);
    expect(controllerShare(2)(0)).toBe(0);
    expect(controllerShare(1)(60)).toBe(60);
  });
});
