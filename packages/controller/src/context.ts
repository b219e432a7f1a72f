/** What every route plugin is given: the adapters, services and config of this controller. */
import type {
  ActivationStore,
  EntityStore,
  Identity,
  StateStore,
  SubjectStore,
  UserLimits,
} from '@whirl/core';
import type { FastifyRequest } from 'fastify';
import type { KindResolver } from './action-doc.js';
import type { Authenticator } from './auth.js';
import type { EntityCache } from './entity-cache.js';
import type { InvokeService } from './invoke.js';
import type { ControllerConfig } from './config.js';
import type { Throttles } from './throttle.js';
import type { LoadBalancer } from './loadbalancer/lean.js';
import type { SystemActions } from './catalog/system-actions.js';
import type { AsyncDelivery } from './delivery.js';

export interface ControllerDeps {
  entities: EntityStore;
  activations: ActivationStore;
  subjects: SubjectStore;
  kinds: KindResolver & { runtimesView(): unknown };
  /** Event-source state (feed registrations, leases, pending retries); without it there are no feeds or retries. */
  state?: StateStore;
}

export interface Ctx extends ControllerDeps {
  lb: LoadBalancer;
  config: ControllerConfig;
  auth: Authenticator;
  cache: EntityCache;
  invoker: InvokeService;
  throttles: Throttles;
  /** In-controller `whisk.system` actions (the alarms feeds); see catalog/system-actions.ts. */
  systemActions: SystemActions;
  userLimits(identity: Identity): UserLimits;
  /** Retries and dead letters of non-blocking invokes (present with a state store). */
  delivery?: AsyncDelivery;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, in the authenticated context (null elsewhere). */
    identity: Identity | null;
  }
}

/** The authenticated identity of a request inside the protected context. */
export function identityOf(req: FastifyRequest): Identity {
  if (!req.identity) throw new Error('route registered outside the authenticated context');
  return req.identity;
}
