/** The invoker's activation records, built with core's one record builder. */
import { activationRecord, type ActivationMessage, type ActivationRecord, type ResourceUsage, type WhiskAction } from '@whirl/core';
import type { Response } from './response.js';

/** The record of an activation that ran (or tried to) in a container. */
export function ranRecord(
  msg: ActivationMessage,
  action: WhiskAction,
  r: { start: number; end: number; response: Response; waitTime: number; initTime: number | undefined; timedOut: boolean; usage: ResourceUsage | undefined; shared: boolean },
): ActivationRecord {
  return activationRecord({
    ...owner(msg),
    name: action.name,
    version: action.version,
    start: r.start,
    end: r.end,
    response: r.response,
    leading: msg.annotations ?? [],
    path: `${action.namespace}/${action.name}`,
    waitTime: r.waitTime,
    kind: action.exec.kind,
    timeout: r.timedOut,
    limits: action.limits,
    ...(r.initTime !== undefined ? { initTime: r.initTime } : {}),
    ...(r.usage ? { usage: { ...r.usage, shared: r.shared } } : {}),
    ...(msg.action.binding !== undefined ? { binding: msg.action.binding } : {}),
  });
}

/** The record of an activation that never reached a container. */
export function failedRecord(msg: ActivationMessage, action: WhiskAction | undefined, response: Response): ActivationRecord {
  const now = Date.now();
  return activationRecord({
    ...owner(msg),
    name: msg.action.name,
    version: msg.action.version,
    start: now,
    end: now,
    response,
    leading: msg.annotations ?? [],
    path: `${msg.action.path}/${msg.action.name}`,
    waitTime: now - msg.received,
    ...(action ? { kind: action.exec.kind, timeout: false, limits: action.limits } : {}),
    ...(msg.action.binding !== undefined ? { binding: msg.action.binding } : {}),
  });
}

function owner(msg: ActivationMessage): { namespace: string; subject: string; activationId: string; cause?: string } {
  return { namespace: msg.user.namespace, subject: msg.user.subject, activationId: msg.activationId, ...(msg.cause !== undefined ? { cause: msg.cause } : {}) };
}
