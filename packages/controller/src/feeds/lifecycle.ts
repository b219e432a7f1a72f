/**
 * The lifecycle of the feed actions. Every feed (alarms, and the event sources kafka, couchdb,
 * webhook) takes the same call: `lifecycleEvent` CREATE | READ | UPDATE | DELETE | PAUSE | UNPAUSE
 * with `triggerName` (the caller's own trigger) and `authKey` (the caller's own key); lifecycleHandler
 * checks those three once for all of them. For the event sources, a feed's registration is written by whichever controller serves the call; the
 * leading controller notices it and starts (or stops) the source. CREATE and UPDATE check the source
 * first (brokers or database reachable), so a feed that could never work is refused and nothing is
 * stored. Invalid calls are application errors with a sentence saying what to fix.
 */
import {
  ActivationStatus,
  checkName,
  feedId,
  feedStatusId,
  isValidName,
  type FeedKind,
  type FeedRegistration,
  type FeedStatus,
  type Identity,
  type StateStore,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import type { SystemActionCall, SystemActionHandler } from '../catalog/system-actions.js';

/** An invalid feed call: becomes an application error whose message says what to fix. */
export class FeedError extends Error {}

export const EVENTS = ['CREATE', 'READ', 'UPDATE', 'DELETE', 'PAUSE', 'UNPAUSE'] as const;
export type LifecycleEvent = (typeof EVENTS)[number];

/** A lifecycle call whose event, authKey and triggerName have been checked. */
export interface FeedCall {
  event: LifecycleEvent;
  params: Record<string, unknown>;
  namespace: string;
  trigger: string;
  /** `/namespace/trigger`, for messages. */
  fqn: string;
}

/** A feed action as a system action: `handle` runs on a checked call; a FeedError it throws is an application error. */
export function lifecycleHandler(handle: (c: FeedCall) => Promise<Record<string, unknown>>): SystemActionHandler {
  return async (call) => {
    try {
      return { statusCode: ActivationStatus.Success, result: await handle(checkCall(call)) };
    } catch (e) {
      if (e instanceof FeedError) return { statusCode: ActivationStatus.ApplicationError, result: { error: e.message } };
      throw e;
    }
  };
}

function checkCall(call: SystemActionCall): FeedCall {
  const p = call.params;
  const event = p.lifecycleEvent;
  if (event === undefined) throw new FeedError('The lifecycleEvent parameter is missing; use one of CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE.');
  if (typeof event !== 'string' || !(EVENTS as readonly string[]).includes(event)) {
    throw new FeedError(`lifecycleEvent '${String(event)}' is not supported; use one of CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE.`);
  }
  checkAuthKey(p.authKey, call.identity);
  const { namespace, trigger } = triggerOf(p.triggerName, call.identity);
  return { event: event as LifecycleEvent, params: p, namespace, trigger, fqn: `/${namespace}/${trigger}` };
}

function checkAuthKey(authKey: unknown, identity: Identity): void {
  if (authKey === undefined) throw new FeedError('The authKey parameter is missing; pass your own uuid:key.');
  if (typeof authKey !== 'string' || authKey !== `${identity.namespace.uuid}:${identity.namespace.key}`) {
    throw new FeedError('The authKey parameter does not match the credentials of the caller; pass your own uuid:key.');
  }
}

/** `/ns/trigger` or `ns/trigger`; `_` is the caller's namespace, and only the caller's namespace is allowed. */
function triggerOf(triggerName: unknown, identity: Identity): { namespace: string; trigger: string } {
  if (triggerName === undefined) throw new FeedError('The triggerName parameter is missing; pass /<namespace>/<trigger>.');
  const parts = typeof triggerName === 'string' ? (triggerName.startsWith('/') ? triggerName.slice(1) : triggerName).split('/') : [];
  if (parts.length !== 2 || !parts.every((x) => x === '_' || isValidName(x))) {
    throw new FeedError(`The triggerName '${String(triggerName)}' is not valid; pass /<namespace>/<trigger>.`);
  }
  const namespace = parts[0] === '_' ? identity.namespace.name : checkName(parts[0]!, 'namespace');
  if (namespace !== identity.namespace.name) {
    throw new FeedError(`The trigger /${namespace}/${parts[1]} belongs to another namespace; a feed can only be attached to your own triggers.`);
  }
  return { namespace, trigger: parts[1]! };
}

/** CREATE and UPDATE attach to a trigger that must exist. */
export async function requireTrigger(ctx: Ctx, c: FeedCall): Promise<void> {
  const t = await ctx.entities.get(`${c.namespace}/${c.trigger}`);
  if (!t || t.doc.entityType !== 'trigger') throw new FeedError(`The trigger ${c.fqn} does not exist; create it before attaching the feed.`);
}

export interface Configured {
  config: Record<string, unknown>;
  /** Where the source starts (kafka: topic ends, couchdb: the database's update_seq). */
  position?: Record<string, unknown>;
}

export interface FeedSpec {
  kind: FeedKind;
  /** `package/action`, for messages. */
  action: string;
  /** Parameters an UPDATE may change. */
  updatable: readonly string[];
  /** Validates the parameters (over `base` for UPDATE) and checks the source; throws FeedError. */
  configure(p: Record<string, unknown>, base: Record<string, unknown> | undefined, target: { namespace: string; trigger: string }): Promise<Configured>;
  /** What identifies the source: an UPDATE that keeps it keeps the resume position. */
  sourceOf(config: Record<string, unknown>): string;
  /** The config as READ shows it (no passwords or secrets). */
  show(config: Record<string, unknown>, reg: FeedRegistration): Record<string, unknown>;
  /** Extra fields of the CREATE answer (the webhook's URL and secret). */
  created?(reg: FeedRegistration): Record<string, unknown>;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The event-source feeds: registrations and statuses in the state store, sources run by the leader. */
export function feedLifecycleHandler(ctx: Ctx, state: StateStore, spec: FeedSpec): SystemActionHandler {
  return lifecycleHandler((c) => handle(ctx, state, spec, c));
}

async function handle(ctx: Ctx, state: StateStore, spec: FeedSpec, c: FeedCall): Promise<Record<string, unknown>> {
  const { params: p, event, fqn } = c;
  const target = { namespace: c.namespace, trigger: c.trigger };
  const id = feedId(spec.kind, target.namespace, target.trigger);
  const sid = feedStatusId(spec.kind, target.namespace, target.trigger);
  const existing = await state.get<FeedRegistration>(id);
  const need = (): FeedRegistration => {
    if (!existing) throw new FeedError(`No ${spec.action} feed is registered for trigger ${fqn}.`);
    return existing;
  };
  const now = Date.now();

  switch (event) {
    case 'CREATE': {
      await requireTrigger(ctx, c);
      if (existing) throw new FeedError(`A ${spec.action} feed already exists for trigger ${fqn}; use UPDATE to change it or DELETE it first.`);
      const { config, position } = await spec.configure(p, undefined, target);
      const reg: FeedRegistration = {
        kind: spec.kind,
        namespace: target.namespace,
        trigger: target.trigger,
        authKey: p.authKey as string,
        config,
        active: true,
        dateChanged: now,
        created: now,
        generation: 1,
      };
      const status: FeedStatus = { state: 'pending', since: now, fireCount: 0, ...(position ? { position } : {}) };
      // The status (with the start position) first: the leader starts a source only with a registration.
      await state.put(sid, status);
      await state.put(id, reg);
      return { status: 'success', triggerName: fqn, ...(spec.created?.(reg) ?? {}) };
    }
    case 'READ': {
      const reg = need();
      const st = await state.get<FeedStatus>(sid);
      return {
        config: { name: reg.trigger, namespace: reg.namespace, ...spec.show(reg.config, reg) },
        status: {
          active: reg.active,
          ...(st ? { state: reg.active ? st.state : 'paused' } : {}),
          ...(st?.lastError !== undefined && reg.active ? { lastError: st.lastError } : {}),
          dateChanged: reg.dateChanged,
          dateChangedISO: iso(reg.dateChanged),
          fireCount: st?.fireCount ?? 0,
          ...(st?.lastFire !== undefined ? { lastFire: iso(st.lastFire) } : {}),
          // Where the source resumes: kafka `{partition: next offset}`, couchdb `{seq}`.
          ...(st?.position !== undefined ? { position: st.position } : {}),
          ...(reg.reason ? { reason: reg.reason } : {}),
        },
      };
    }
    case 'UPDATE': {
      const reg = need();
      await requireTrigger(ctx, c);
      const given = spec.updatable.filter((k) => p[k] !== undefined);
      if (given.length === 0) throw new FeedError(`No updatable parameters were given; the ${spec.action} feed takes ${spec.updatable.join(', ')}.`);
      const { config, position } = await spec.configure(p, reg.config, target);
      if (spec.sourceOf(config) !== spec.sourceOf(reg.config)) {
        await state.put(sid, { state: 'pending', since: now, fireCount: 0, ...(position ? { position } : {}) } satisfies FeedStatus);
      }
      const updated: FeedRegistration = { ...reg, config, authKey: p.authKey as string, generation: reg.generation + 1 };
      if (!reg.active) {
        updated.active = true;
        updated.dateChanged = now;
        delete updated.reason;
      }
      await state.put(id, updated);
      return { status: 'success', triggerName: fqn, ...(spec.created?.(updated) ?? {}) };
    }
    case 'DELETE': {
      need();
      await state.delete(id);
      await state.delete(sid);
      return { status: 'success', triggerName: fqn };
    }
    case 'PAUSE': {
      const reg = need();
      if (reg.active) {
        await state.put(id, { ...reg, active: false, dateChanged: now, reason: { kind: 'USER', message: 'paused by the user' }, generation: reg.generation + 1 } satisfies FeedRegistration);
      }
      return { status: 'success', triggerName: fqn };
    }
    default: {
      const reg = need();
      if (!reg.active) {
        const resumed: FeedRegistration = { ...reg, active: true, dateChanged: now, generation: reg.generation + 1 };
        delete resumed.reason;
        await state.put(id, resumed);
      }
      return { status: 'success', triggerName: fqn };
    }
  }
}

/** Common parameter readers. */
export function stringParam(p: Record<string, unknown>, key: string, base: Record<string, unknown> | undefined, what: string): string {
  const v = p[key] ?? base?.[key];
  if (typeof v !== 'string' || v.trim() === '') throw new FeedError(`The ${key} parameter is missing or empty; pass ${what}.`);
  return v.trim();
}

export function boolParam(p: Record<string, unknown>, key: string, base: Record<string, unknown> | undefined): boolean {
  const v = p[key] ?? base?.[key] ?? false;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new FeedError(`The ${key} parameter '${String(v)}' must be true or false.`);
}
