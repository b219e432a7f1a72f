/**
 * The payload limit, checked in one place for every route that takes a payload: before the body is
 * read when the request declares its length (an onRequest hook), and on the bytes themselves once
 * they are known (a parsed body re-serialised, a raw webhook body).
 */
import { Limits, PayloadTooLargeError } from '@whirl/core';
import type { FastifyRequest } from 'fastify';

/** onRequest hook: a declared Content-Length over the payload limit is refused with 413 unread. */
export async function declaredPayloadGuard(req: FastifyRequest): Promise<void> {
  checkPayloadBytes(Number(req.headers['content-length'] ?? 0));
}

/** Refuses a payload of `bytes` over the limit with OpenWhisk's 413 sentence. */
export function checkPayloadBytes(bytes: number): void {
  if (bytes > Limits.payloadBytes) throw new PayloadTooLargeError('Request', bytes, Limits.payloadBytes);
}
