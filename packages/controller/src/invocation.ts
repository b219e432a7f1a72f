/**
 * The words of the invocation path, kept in a leaf module so that the dispatcher (invoke.ts) and the
 * executors it dispatches to (bus-executor.ts, compositions.ts, catalog/system-actions.ts) all depend
 * on it and never on each other: a composition runs its components through an `Invoke` it was given
 * in app.ts, not by importing the service that called it.
 */
import type { ActivationRecord, Identity, KeyValue, Revisioned, WhiskAction } from '@whirl/core';

export interface InvokeRequest {
  identity: Identity;
  action: Revisioned<WhiskAction>;
  /** Parameters inherited from the package (and binding), lowest precedence. */
  packageParams?: KeyValue[];
  binding?: string;
  /** The request body, or (inside a sequence) the previous component's result, which may be an array. */
  payload: Record<string, unknown> | unknown[];
  blocking: boolean;
  waitMs: number;
  transid: string;
  received: number;
  cause?: string;
  annotations?: KeyValue[];
}

export interface InvokeOutcome {
  activationId: string;
  /** Present when a blocking call finished within its wait. */
  record?: ActivationRecord;
}

/** Runs one activation of an action and, when blocking, answers with its record within the wait. */
export type Invoke = (req: InvokeRequest) => Promise<InvokeOutcome>;

/**
 * One way of running actions: on an invoker over the bus, inside the controller (system actions), or
 * as a composition of other actions. Throttles are not an executor's business: the edges that take
 * requests in (routes, trigger fires, retries) count them before they invoke.
 */
export interface Executor {
  /** Whether this executor runs `action`; the dispatcher asks its executors in order. */
  accepts(action: WhiskAction): boolean;
  run: Invoke;
}
