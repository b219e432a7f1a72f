/**
 * Blocking callers wait here for their activation's result ack. A waiter is registered before the
 * activation is published so that a fast invoker cannot answer before anyone listens.
 */
import type { ActivationRecord } from '@whirl/core';

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
