/**
 * The executor for code actions (and blackbox): merge parameters, build the activation message, journal
 * it, hand it to the load balancer and, for blocking callers, wait for the result ack. What runs it is
 * an invoker, reached over the bus.
 */
import {
  BadRequestError,
  annotation,
  keyValuesToObject,
  newActivationId,
  type ActivationMessage,
  type ActivationJournal,
  type ActivationStore,
  type Identity,
  type KeyValue,
  type UserLimits,
  type WhiskAction,
} from '@whirl/core';
import { pendingActivation, type Executor, type InvokeOutcome, type InvokeRequest } from './invocation.js';
import type { LoadBalancer } from './loadbalancer/lean.js';
import type { ActivationWaiter } from './waiter.js';

export class BusExecutor implements Executor {
  constructor(
    private readonly deps: {
      lb: LoadBalancer;
      waiter: ActivationWaiter;
      activations: ActivationStore;
      controllerId: string;
      /** How long a queued activation may wait before the invoker records it as expired instead of running it. */
      maxQueueMs: number;
      /** This controller's direct channel for blocking results (distributed); see ActivationMessage.replyTo. */
      replyTo?: () => { url: string; token: string } | undefined;
      userLimits(identity: Identity): UserLimits;
      journal?: ActivationJournal;
    },
  ) {}

  /** Every action can go to an invoker; the dispatcher asks this executor last. */
  accepts(_action: WhiskAction): boolean {
    return true;
  }

  /** Publishes one activation of a code action and, when blocking, waits for its result. */
  run = async (req: InvokeRequest): Promise<InvokeOutcome> => {
    const { action } = req;
    const a = action.doc;
    const defined = [...(req.packageParams ?? []), ...a.parameters];
    if (annotation(a.annotations, 'final') === true && !Array.isArray(req.payload)) {
      const definedKeys = new Set(defined.filter((p) => p.value !== undefined).map((p) => p.key));
      if (Object.keys(req.payload).some((k) => definedKeys.has(k))) {
        throw new BadRequestError('Request defines parameters that are not allowed (e.g., reserved properties).');
      }
    }
    const initKeys = new Set(defined.filter((p) => p.init === true).map((p) => p.key));
    const params = keyValuesToObject(defined);
    const initArgs: KeyValue[] = [];
    for (const k of initKeys) {
      initArgs.push({ key: k, value: Array.isArray(req.payload) ? params[k] : (req.payload[k] ?? params[k]), init: true });
    }
    // An array (a previous sequence component's result) is the whole input; objects merge over parameters.
    const merged: Record<string, unknown> | unknown[] = Array.isArray(req.payload) ? req.payload : { ...params, ...req.payload };
    if (!Array.isArray(merged)) for (const k of initKeys) delete merged[k];
    const activationId = newActivationId();
    const msg: ActivationMessage = {
      v: 1,
      transid: req.transid,
      activationId,
      received: req.received,
      deadline: req.received + this.deps.maxQueueMs,
      controller: this.deps.controllerId,
      blocking: req.blocking,
      user: {
        subject: req.identity.subject,
        namespace: req.identity.namespace.name,
        uuid: req.identity.namespace.uuid,
        apiKey: `${req.identity.namespace.uuid}:${req.identity.namespace.key}`,
      },
      action: {
        docId: `${a.namespace}/${a.name}`,
        rev: action.rev,
        path: a.namespace,
        name: a.name,
        version: a.version,
        ...(req.binding !== undefined ? { binding: req.binding } : {}),
      },
      content: merged,
      initArgs,
      timeoutMs: a.limits.timeout,
      ...(req.cause !== undefined ? { cause: req.cause } : {}),
      ...(req.annotations !== undefined ? { annotations: req.annotations } : {}),
    };
    const store = storePolicy(this.deps.userLimits(req.identity), a.annotations, req.blocking);
    if (store) msg.store = store;
    const replyTo = req.blocking ? this.deps.replyTo?.() : undefined;
    if (replyTo) msg.replyTo = replyTo;
    // Journal first: from here on the id may reach the caller, so a record must follow even if we crash.
    const journalKey = { namespace: msg.user.namespace, activationId };
    await this.deps.journal?.begin(pendingActivation(req, activationId));
    const waiting = req.blocking ? this.deps.waiter.register(activationId, req.waitMs) : undefined;
    let published;
    try {
      published = await this.deps.lb.publish(msg, { memoryMB: a.limits.memory, timeoutMs: a.limits.timeout, blackbox: a.exec.kind === 'blackbox' });
    } catch (e) {
      // Not published: the caller gets an error and no id, so nothing is owed.
      this.deps.waiter.cancel(activationId);
      await this.deps.journal?.end([journalKey]);
      throw e;
    }
    if (!waiting) return { activationId };
    const record = await waiting;
    // The id leaves with the result only once the activation is in the durable log (the direct
    // channel ran it ahead of its bus copy): if this controller and the invoker both die now, the
    // other controllers' ledger still finds it there. Usually long done by the time a result comes.
    await published.logged;
    if (record) return { activationId, record };
    // The ack may have been missed while the record was stored; one read settles it.
    const stored = await this.deps.activations.get(req.identity.namespace.name, activationId);
    return stored ? { activationId, record: stored } : { activationId };
  };
}

/**
 * The namespace's `storeActivations: false` or the action's `store-activations: false` annotation
 * (OpenWhisk has only the namespace limit and a system-wide level) skip storing a successful blocking
 * result; failures are always stored. Log caps come from the namespace's limits.
 */
function storePolicy(limits: UserLimits, annotations: readonly KeyValue[], blocking: boolean): ActivationMessage['store'] | undefined {
  const skip = blocking && (limits.storeActivations === false || annotation(annotations, 'store-activations') === false);
  const policy: NonNullable<ActivationMessage['store']> = {
    ...(skip ? { skipSuccessfulBlocking: true } : {}),
    ...(limits.maxLogBytes !== undefined ? { logBytes: limits.maxLogBytes } : {}),
    ...(limits.maxLogLines !== undefined ? { logLines: limits.maxLogLines } : {}),
  };
  return Object.keys(policy).length > 0 ? policy : undefined;
}
