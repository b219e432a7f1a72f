import { describe, expect, it, vi } from 'vitest';
import type { ActivationRecord, AckMessage } from '@whirl/core';
import { ActivationWaiter, applyAck } from './waiter.js';

const record = { activationId: 'a1', namespace: 'guest', response: { statusCode: 0, result: {} }, logs: [] } as unknown as ActivationRecord;
const lb = { release: vi.fn() };
const ack = (body: Partial<AckMessage>): AckMessage => ({ v: 1, transid: 't', activationId: 'a1', invoker: '0', ...body }) as AckMessage;

describe('results whose completion never comes', () => {
  it('are handed to onOrphanedResult after the grace time', async () => {
    vi.useFakeTimers();
    try {
      const stored: ActivationRecord[] = [];
      const waiter = new ActivationWaiter({ orphanAfterMs: 1000, onOrphanedResult: async (r) => void stored.push(r) });
      applyAck(ack({ result: record }), waiter, lb);
      await vi.advanceTimersByTimeAsync(999);
      expect(stored).toEqual([]);
      await vi.advanceTimersByTimeAsync(2);
      expect(stored).toEqual([record]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('are forgotten once the completion arrives', async () => {
    vi.useFakeTimers();
    try {
      const stored: ActivationRecord[] = [];
      const waiter = new ActivationWaiter({ orphanAfterMs: 1000, onOrphanedResult: async (r) => void stored.push(r) });
      applyAck(ack({ result: record }), waiter, lb);
      applyAck(ack({ completion: { isSystemError: false } }), waiter, lb);
      await vi.advanceTimersByTimeAsync(5000);
      expect(stored).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('are retried while the store refuses them', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const waiter = new ActivationWaiter({
        orphanAfterMs: 1000,
        onOrphanedResult: async () => {
          if (++calls < 3) throw new Error('store down');
        },
      });
      applyAck(ack({ result: record }), waiter, lb);
      await vi.advanceTimersByTimeAsync(1000 + 5000 * 3);
      expect(calls).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
