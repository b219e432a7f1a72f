/**
 * A blocking activation of the distributed tier comes twice: posted on the invoker's direct channel
 * and, behind it, as the bus's write-behind copy (both marked `direct`). This remembers the ones whose
 * first copy was taken until their second arrives, so that each runs once.
 */
import type { ActivationMessage } from '@whirl/core';

/** How long a taken copy waits for its twin: a copy that never comes (a failed post) is forgotten then. */
const TWIN_WAIT_MS = 600_000;

export class DirectCopies {
  /** Activation id → when its first copy was taken, oldest first. */
  private readonly waiting = new Map<string, number>();

  /** Whether `msg` is the first copy of its activation to arrive (a message without twin always is). */
  first(msg: ActivationMessage, now: number): boolean {
    if (msg.direct !== true) return true;
    if (this.waiting.delete(msg.activationId)) return false;
    for (const [id, at] of this.waiting) {
      if (now - at < TWIN_WAIT_MS) break;
      this.waiting.delete(id);
    }
    this.waiting.set(msg.activationId, now);
    return true;
  }
}
