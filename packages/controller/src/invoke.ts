/**
 * The controller's half of the invocation path: merge parameters, build the activation message,
 * hand it to the load balancer and, for blocking callers, wait for the result ack.
 */
import {
  BadRequestError,
  annotation,
  keyValuesToObject,
  newActivationId,
  type ActivationMessage,
  type ActivationRecord,
  type ActivationStore,
  type Identity,
  type KeyValue,
  type Revisioned,
  type WhiskAction,
} from '@whirl/core';
import type { LoadBalancer } from './loadbalancer/lean.js';
import type { ActivationWaiter } from './waiter.js';

export interface InvokeRequest {
  identity: Identity;
  action: Revisioned<WhiskAction>;
  /** Parameters inherited from the package (and binding), lowest precedence. */
  packageParams?: KeyValue[];
  binding?: string;
  /** The request body. */
  payload: Record<string, unknown>;
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

/** How long a queued activation may wait before the invoker records it as expired instead of running it. */
export const MAX_QUEUE_MS = 5 * 60_000;

export class InvokeService {
  constructor(
    private readonly deps: {
      lb: LoadBalancer;
      waiter: ActivationWaiter;
      activations: ActivationStore;
      controllerId: string;
    },
  ) {}

  async invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    const { action } = req;
    const a = action.doc;
    const defined = [...(req.packageParams ?? []), ...a.parameters];
    if (annotation(a.annotations, 'final') === true) {
      const definedKeys = new Set(defined.filter((p) => p.value !== undefined).map((p) => p.key));
      if (Object.keys(req.payload).some((k) => definedKeys.has(k))) {
        throw new BadRequestError('Request defines parameters that are not allowed (e.g., reserved properties).');
      }
    }
    const initKeys = new Set(defined.filter((p) => p.init === true).map((p) => p.key));
    const merged: Record<string, unknown> = { ...keyValuesToObject(defined), ...req.payload };
    const initArgs: KeyValue[] = [];
    for (const k of initKeys) {
      initArgs.push({ key: k, value: merged[k], init: true });
      delete merged[k];
    }
    const activationId = newActivationId();
    const msg: ActivationMessage = {
      v: 1,
      transid: req.transid,
      activationId,
      received: req.received,
      deadline: req.received + MAX_QUEUE_MS,
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
      ...(req.cause !== undefined ? { cause: req.cause } : {}),
      ...(req.annotations !== undefined ? { annotations: req.annotations } : {}),
    };
    if (!req.blocking) {
      await this.deps.lb.publish(msg, a.limits.memory);
      return { activationId };
    }
    const waiting = this.deps.waiter.register(activationId, req.waitMs);
    try {
      await this.deps.lb.publish(msg, a.limits.memory);
    } catch (e) {
      this.deps.waiter.cancel(activationId);
      throw e;
    }
    const record = await waiting;
    if (record) return { activationId, record };
    // The ack may have been missed while the record was stored; one read settles it.
    const stored = await this.deps.activations.get(req.identity.namespace.name, activationId);
    return stored ? { activationId, record: stored } : { activationId };
  }
}
