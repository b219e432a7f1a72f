/**
 * Activation records: ids, the four-way outcome, and the REST rendering (which drops `statusCode`
 * from `response` and adds `status`/`success`, while list summaries carry a top-level `statusCode`).
 */
import { randomBytes } from 'node:crypto';
import { BadRequestError } from './errors.js';
import type { KeyValue } from './entities.js';

export const ActivationStatus = {
  Success: 0,
  ApplicationError: 1,
  DeveloperError: 2,
  WhiskError: 3,
} as const;
export type StatusCode = (typeof ActivationStatus)[keyof typeof ActivationStatus];

const statusText: Record<StatusCode, string> = {
  0: 'success',
  1: 'application error',
  2: 'action developer error',
  3: 'whisk internal error',
};

/** The stored form of an activation (what the store keeps and the bus carries). */
export interface ActivationRecord {
  /** The invoking namespace (the owner of the record), not the action's. */
  namespace: string;
  name: string;
  version: string;
  subject: string;
  publish: boolean;
  activationId: string;
  start: number;
  /** 0 for trigger activations, which then show neither `end` nor `duration`. */
  end: number;
  duration?: number;
  cause?: string;
  response: { statusCode: StatusCode; result?: unknown; size?: number };
  logs: string[];
  annotations: KeyValue[];
}

/**
 * Random ids come from a pooled buffer: one randomBytes call per 256 ids instead of one per request
 * (it showed in the warm-path profile). Same entropy: 128 random bits each.
 */
let pool = Buffer.alloc(0);
let offset = 0;
export function randomHexId(): string {
  if (offset + 16 > pool.length) {
    pool = randomBytes(16 * 256);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + 16);
  offset += 16;
  return id;
}

export function newActivationId(): string {
  return randomHexId();
}

export function checkActivationId(id: string): string {
  if (id.length !== 32) throw new BadRequestError(`Activation id length is ${id.length} but must be 32.`);
  if (!/^[0-9a-f]{32}$/.test(id)) throw new BadRequestError('The activation id is not valid.');
  return id;
}

export interface RestResponse {
  result?: unknown;
  size?: number;
  status: string;
  success: boolean;
}

export function restResponse(r: ActivationRecord['response']): RestResponse {
  const out: RestResponse = { status: statusText[r.statusCode], success: r.statusCode === ActivationStatus.Success };
  if (r.result !== undefined) out.result = r.result;
  if (r.size !== undefined) out.size = r.size;
  // Key order as OpenWhisk prints it: result, size, status, success.
  return { ...(out.result !== undefined ? { result: out.result } : {}), ...(out.size !== undefined ? { size: out.size } : {}), status: out.status, success: out.success };
}

/** The extended form: GET /activations/{id}, blocking invoke, list with docs=true. */
export function renderActivation(a: ActivationRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    namespace: a.namespace,
    name: a.name,
    version: a.version,
    subject: a.subject,
    activationId: a.activationId,
    start: a.start,
  };
  if (a.end !== 0) {
    out.end = a.end;
    out.duration = a.duration ?? a.end - a.start;
  }
  if (a.cause !== undefined) out.cause = a.cause;
  out.response = restResponse(a.response);
  out.logs = a.logs;
  out.annotations = a.annotations;
  out.publish = a.publish;
  return out;
}

/** The list summary form (no response body, top-level statusCode). */
export function renderActivationSummary(a: ActivationRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    namespace: a.namespace,
    name: a.name,
    version: a.version,
    subject: a.subject,
    publish: a.publish,
    annotations: a.annotations,
    activationId: a.activationId,
    start: a.start,
  };
  if (a.end !== 0) {
    out.end = a.end;
    out.duration = a.duration ?? a.end - a.start;
    out.statusCode = a.response.statusCode;
  }
  if (a.cause !== undefined) out.cause = a.cause;
  return out;
}

/** `{error: msg}` result with the given status: the shape of every failed activation. */
export function errorResponse(statusCode: StatusCode, message: string): ActivationRecord['response'] {
  return { statusCode, result: { error: message } };
}

/**
 * What an activation record is made of. The one builder below turns it into the stored form, so that
 * every producer (the invoker, compositions, system actions, trigger fires, lost-activation repair)
 * writes the same fields with OpenWhisk's annotations in OpenWhisk's order.
 */
export interface ActivationFacts {
  /** The invoking namespace (the record's owner) and subject. */
  namespace: string;
  subject: string;
  name: string;
  version: string;
  activationId: string;
  start: number;
  /** 0 for a trigger activation (no `end`, no `duration`). */
  end: number;
  /** @default end - start, or none when end is 0 */
  duration?: number;
  cause?: string;
  response: ActivationRecord['response'];
  logs?: string[];
  /**
   * OpenWhisk's annotations, in its order: `path`, `waitTime`, `kind`, `conductor`, `timeout`,
   * `limits`, `initTime`, then Whirl's usage figures and `binding`. Without `path` the record has no
   * annotations of its own (trigger activations).
   */
  path?: string;
  waitTime?: number;
  kind?: string;
  conductor?: boolean;
  timeout?: boolean;
  limits?: unknown;
  initTime?: number;
  /** Peak memory and CPU time measured from the container's cgroup; `shared` with other activations. */
  usage?: { memoryPeakBytes: number; cpuNs: number; shared: boolean };
  binding?: string;
  /** Annotations that come first (the message's own, e.g. `causedBy`; a composition's `topmost`). */
  leading?: KeyValue[];
  /** Annotations that come last (what a caller asked to attach). */
  trailing?: KeyValue[];
}

export function activationRecord(f: ActivationFacts): ActivationRecord {
  const annotations: KeyValue[] = [...(f.leading ?? [])];
  if (f.path !== undefined) {
    annotations.push({ key: 'path', value: f.path });
    if (f.waitTime !== undefined) annotations.push({ key: 'waitTime', value: f.waitTime });
    if (f.kind !== undefined) annotations.push({ key: 'kind', value: f.kind });
    if (f.conductor === true) annotations.push({ key: 'conductor', value: true });
    if (f.timeout !== undefined) annotations.push({ key: 'timeout', value: f.timeout });
    if (f.limits !== undefined) annotations.push({ key: 'limits', value: f.limits });
    if (f.initTime !== undefined) annotations.push({ key: 'initTime', value: f.initTime });
    if (f.usage) {
      annotations.push(
        // Whole MB, rounded up, as Lambda's "Max Memory Used"; CPU in ms with microsecond precision.
        { key: 'memoryPeakMB', value: Math.max(1, Math.ceil(f.usage.memoryPeakBytes / (1024 * 1024))) },
        { key: 'cpuMs', value: Math.round(f.usage.cpuNs / 1000) / 1000 },
      );
      if (f.usage.shared) annotations.push({ key: 'usageShared', value: true });
    }
    if (f.binding !== undefined) annotations.push({ key: 'binding', value: f.binding });
  }
  annotations.push(...(f.trailing ?? []));
  const duration = f.duration ?? (f.end > 0 ? f.end - f.start : undefined);
  return {
    namespace: f.namespace,
    name: f.name,
    version: f.version,
    subject: f.subject,
    publish: false,
    activationId: f.activationId,
    start: f.start,
    end: f.end,
    ...(duration !== undefined ? { duration } : {}),
    ...(f.cause !== undefined ? { cause: f.cause } : {}),
    response: f.response,
    logs: f.logs ?? [],
    annotations,
  };
}

/**
 * The record of an activation whose run was lost (the process stopped or crashed before it finished):
 * a whisk internal error, so that the id the caller holds still reads back.
 */
export function lostActivationRecord(
  p: { namespace: string; activationId: string; received: number; subject: string; path: string; name: string; version: string; cause?: string; binding?: string },
  now: number,
  reason = 'The activation did not complete: Whirl stopped before it finished, and it was not run again.',
): ActivationRecord {
  return activationRecord({
    namespace: p.namespace,
    subject: p.subject,
    name: p.name,
    version: p.version,
    activationId: p.activationId,
    start: p.received,
    end: Math.max(now, p.received),
    duration: Math.max(0, now - p.received),
    ...(p.cause !== undefined ? { cause: p.cause } : {}),
    response: errorResponse(ActivationStatus.WhiskError, reason),
    path: `${p.path}/${p.name}`,
    ...(p.binding !== undefined ? { binding: p.binding } : {}),
  });
}
