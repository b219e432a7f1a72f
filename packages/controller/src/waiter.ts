/**
 * Blocking callers wait here for their activation's result ack. A waiter is registered before the
 * activation is published so that a fast invoker cannot answer before anyone listens.
 */
import { ActivationStatus, type AckMessage, type ActivationRecord } from '@whirl/core';

interface Pending {
  resolve(r: ActivationRecord | undefined): void;
  timer: NodeJS.Timeout;
}

export interface WaiterOptions {
  /**
   * A blocking activation's result reached this controller, but its completion did not follow within
   * `orphanAfterMs`: the invoker died after answering and may never have stored the record. Called
   * with the result (logs excluded) so that the controller can store it if it is still missing.
   */
  onOrphanedResult?: (record: ActivationRecord) => Promise<void>;
  /** Default 60 s: longer than an invoker takes to collect logs (≤ 20 s) and store the record. */
  orphanAfterMs?: number;
}

export class ActivationWaiter {
  private readonly pending = new Map<string, Pending>();
  /** Results answered but not yet completed, kept until their completion comes. */
  private readonly held = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: WaiterOptions = {}) {}

  /** Keeps a result until its completion arrives (see WaiterOptions.onOrphanedResult). */
  hold(record: ActivationRecord): void {
    const onOrphan = this.opts.onOrphanedResult;
    if (!onOrphan || this.held.has(record.activationId)) return;
    const orphaned = (attempt: number): void => {
      this.held.delete(record.activationId);
      onOrphan(record).catch(() => {
        // The store may be down too: keep trying for a while (5 s apart, up to 10 minutes).
        if (attempt < 120) this.held.set(record.activationId, setTimeout(() => orphaned(attempt + 1), 5_000).unref());
      });
    };
    this.held.set(record.activationId, setTimeout(() => orphaned(0), this.opts.orphanAfterMs ?? 60_000).unref());
  }

  /** The invoker completed the activation (it stored the record): nothing is owed any more. */
  completed(activationId: string): void {
    const t = this.held.get(activationId);
    if (t) {
      clearTimeout(t);
      this.held.delete(activationId);
    }
  }

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
    for (const t of this.held.values()) clearTimeout(t);
    this.held.clear();
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
    // A result without its completion: the record is not stored yet, and its invoker could die first.
    if (!ack.completion) waiter.hold(ack.result);
    lb.release(ack.activationId, ack.result.response.statusCode === ActivationStatus.WhiskError);
  }
  if (ack.completion) {
    waiter.completed(ack.activationId);
    lb.release(ack.activationId, ack.completion.isSystemError);
  }
}
