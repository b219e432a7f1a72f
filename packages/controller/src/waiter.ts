/**
 * Blocking callers wait here for their activation's result ack. A waiter is registered before the
 * activation is published so that a fast invoker cannot answer before anyone listens.
 */
import type { AckMessage, ActivationRecord } from '@whirl/core';

interface Pending {
  resolve(r: ActivationRecord | undefined): void;
  timer: NodeJS.Timeout;
}

export class ActivationWaiter {
  private readonly pending = new Map<string, Pending>();

  /** Returns a promise of the record, or undefined when `timeoutMs` passes first. */
  register(activationId: string, timeoutMs: number): Promise<ActivationRecord | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(activationId);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(activationId, { resolve, timer });
    });
  }

  cancel(activationId: string): void {
    const p = this.pending.get(activationId);
    if (p) {
      clearTimeout(p.timer);
      this.pending.delete(activationId);
      p.resolve(undefined);
    }
  }

  /** Called for every result ack; unknown ids (non-blocking, or waiter gone) are ignored. */
  complete(record: ActivationRecord): void {
    const p = this.pending.get(record.activationId);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(record.activationId);
    p.resolve(record);
  }

  get size(): number {
    return this.pending.size;
  }

  close(): void {
    for (const id of [...this.pending.keys()]) this.cancel(id);
  }
}

/**
 * What a controller does with an ack from an invoker (over the bus or the direct channel): a result
 * answers the blocking caller and ends the activation's time in flight (storing its record may take a
 * moment longer); a completion frees the slot if the result did not already. Releasing twice is a no-op.
 */
export function applyAck(
  ack: AckMessage,
  waiter: ActivationWaiter,
  lb: { release(activationId: string, isSystemError?: boolean): void },
): void {
  if (ack.result) {
    waiter.complete(ack.result);
    lb.release(ack.activationId, ack.result.response.statusCode === 3);
  }
  if (ack.completion) lb.release(ack.activationId, ack.completion.isSystemError);
}
