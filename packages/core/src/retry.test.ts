import { describe, expect, it, vi } from 'vitest';
import { retryWithBackoff } from './retry.js';

describe('retryWithBackoff', () => {
  it('waits initial, 2x, 4x … capped at max between attempts, and returns the first success', async () => {
    vi.useFakeTimers();
    try {
      const waits: number[] = [];
      let last = Date.now();
      const p = retryWithBackoff(
        async (attempt) => {
          waits.push(Date.now() - last);
          last = Date.now();
          if (attempt < 4) throw new Error(`fail ${attempt}`);
          return 'ok';
        },
        { initialMs: 100, maxMs: 500 },
      );
      await vi.runAllTimersAsync();
      expect(await p).toBe('ok');
      expect(waits).toEqual([0, 100, 200, 400, 500]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rethrows when the caller gives up, and reports only the failures it retries', async () => {
    const retried: number[] = [];
    const err = new Error('down');
    await expect(
      retryWithBackoff(() => Promise.reject(err), { initialMs: 1, maxMs: 1, giveUp: (_e, attempt) => attempt >= 2, onRetry: (_e, attempt) => retried.push(attempt) }),
    ).rejects.toBe(err);
    expect(retried).toEqual([0, 1]);
  });

  it('stops without another attempt once the caller is closing, also after the first wait', async () => {
    let closed = false;
    let calls = 0;
    const fn = async (): Promise<void> => {
      calls++;
      closed = true;
      throw new Error('x');
    };
    expect(await retryWithBackoff(fn, { initialMs: 1, maxMs: 1, stopped: () => closed })).toBeUndefined();
    expect(calls).toBe(1);
    calls = 0;
    closed = false;
    const late = retryWithBackoff(fn, { initialMs: 5, maxMs: 5, delayFirst: true, stopped: () => closed });
    closed = true;
    expect(await late).toBeUndefined();
    expect(calls).toBe(0);
  });
});
