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
  const out: RestResponse = { status: statusText[r.statusCode], success: r.statusCode === 0 };
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
 * The record of an activation whose run was lost (the process stopped or crashed before it finished):
 * a whisk internal error, so that the id the caller holds still reads back.
 */
export function lostActivationRecord(
  p: { namespace: string; activationId: string; received: number; subject: string; path: string; name: string; version: string; cause?: string; binding?: string },
  now: number,
  reason = 'The activation did not complete: Whirl stopped before it finished, and it was not run again.',
): ActivationRecord {
  const annotations: KeyValue[] = [{ key: 'path', value: `${p.path}/${p.name}` }];
  if (p.binding !== undefined) annotations.push({ key: 'binding', value: p.binding });
  return {
    namespace: p.namespace,
    name: p.name,
    version: p.version,
    subject: p.subject,
    publish: false,
    activationId: p.activationId,
    start: p.received,
    end: Math.max(now, p.received),
    duration: Math.max(0, now - p.received),
    ...(p.cause !== undefined ? { cause: p.cause } : {}),
    response: errorResponse(ActivationStatus.WhiskError, reason),
    logs: [],
    annotations,
  };
}
