/**
 * How an action proxy's HTTP answer becomes an activation response (OPENWHISK-COMPAT.md §5.2): the
 * outcome of the user's function is data in the record, never an HTTP error of the platform.
 */
import { ActivationStatus, Limits, errorResponse, type ActivationRecord } from '@whirl/core';

export type Response = ActivationRecord['response'];

export const Msg = {
  provisionFailed: 'Failed to provision resources to run the action.',
  initExited: 'The action did not initialize and exited unexpectedly.',
  runExited: 'The action did not produce a valid response and exited unexpectedly.',
  oom: 'The action exhausted its memory and was aborted.',
  initTimeout: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds during initialization.`,
  runTimeout: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds.`,
  actionGone: 'Action could not be found or may have been deleted.',
  expired: (ms: number) => `The activation was not run: it waited ${ms} ms in the queue, past its deadline (expired).`,
  shutdown: 'The invoker shut down before the activation could run.',
  storeDown: 'The activation was not run: the store was not available to load the action; try again.',
  initTooLong: (bytes: number, limit: number) =>
    `The action failed during initialization: its answer exceeded the allowed length: ${bytes} > ${limit} bytes.`,
} as const;

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The answer to a failed `/init`. */
export function initFailure(status: number, body: string): Response {
  const parsed = parseJson(body);
  if (parsed.ok && isObject(parsed.value) && 'error' in parsed.value) {
    return { statusCode: ActivationStatus.DeveloperError, result: { error: parsed.value.error } };
  }
  return errorResponse(ActivationStatus.DeveloperError, `The action failed during initialization: ${body}`);
}

/** The answer to a completed `/run`. */
export function runResponse(status: number, body: string, bytes: number, limit: number = Limits.resultBytes): Response {
  if (bytes > limit) {
    const truncated = Buffer.from(body).subarray(0, limit).toString('utf8');
    return errorResponse(
      ActivationStatus.ApplicationError,
      `The action produced a response that exceeded the allowed length: ${bytes} > ${limit} bytes. The truncated response was: ${truncated}`,
    );
  }
  const parsed = parseJson(body);
  if (status === 200) {
    if (parsed.ok && Array.isArray(parsed.value)) return { statusCode: ActivationStatus.Success, result: parsed.value, size: bytes };
    if (parsed.ok && isObject(parsed.value)) {
      const code = 'error' in parsed.value ? ActivationStatus.ApplicationError : ActivationStatus.Success;
      return { statusCode: code, result: parsed.value, size: bytes };
    }
    return errorResponse(ActivationStatus.DeveloperError, `The action did not produce a valid JSON or JSON Array response: ${body}`);
  }
  if (parsed.ok && isObject(parsed.value) && 'error' in parsed.value) {
    return { statusCode: ActivationStatus.DeveloperError, result: { error: parsed.value.error }, size: bytes };
  }
  return errorResponse(ActivationStatus.DeveloperError, `The action did not produce a valid response: ${body}`);
}
