/**
 * The words of the invocation path, kept in a leaf module so that the dispatcher (invoke.ts) and the
 * executors it dispatches to (bus-executor.ts, compositions.ts, catalog/system-actions.ts) all depend
 * on it and never on each other: a composition runs its components through an `Invoke` it was given
 * in app.ts, not by importing the service that called it.
 */
import type { ActivationRecord, Identity, KeyValue, PendingActivation, Revisioned, WhiskAction } from '@whirl/core';

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

/**
 * The journal entry of a request given activation id `activationId`: what a record of it needs should
 * the process stop before it finishes (the one place both executors that journal take it from).
 */
export function pendingActivation(req: InvokeRequest, activationId: string): PendingActivation {
  const a = req.action.doc;
  return {
    namespace: req.identity.namespace.name,
    activationId,
    received: req.received,
    subject: req.identity.subject,
    path: a.namespace,
    name: a.name,
    version: a.version,
    ...(req.cause !== undefined ? { cause: req.cause } : {}),
    ...(req.binding !== undefined ? { binding: req.binding } : {}),
  };
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
