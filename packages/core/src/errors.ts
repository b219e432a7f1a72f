/**
 * The one error catalogue. Every failure the platform reports over HTTP is a WhirlError with a stable
 * `code` (never reused) and an HTTP status; exactly one Fastify error handler renders it as OpenWhisk's
 * body `{"error": message, "code": <transaction id>}`. Messages are OpenWhisk's own wording where
 * clients depend on it, otherwise a sentence that tells the caller what to fix.
 */

export const ErrorCodes = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class WhirlError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Extra response headers (e.g. WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'WhirlError';
    this.code = code;
    this.statusCode = ErrorCodes[code];
    this.headers = opts.headers ?? {};
  }
}

export const Messages = {
  notFound: 'The requested resource does not exist.',
  routeNotFound: 'The requested resource could not be found.',
  forbidden: 'The supplied authentication is not authorized to access this resource.',
  exists: 'resource already exists',
  concurrentModification: 'Concurrent modification to resource detected.',
  wrongCollection: 'Resource by this name exists but is not in this collection.',
  missingAuth: 'The resource requires authentication, which was not supplied with the request',
  badAuth: 'The supplied authentication is invalid',
  noInvokers: 'No invokers available.',
} as const;

export class BadRequestError extends WhirlError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
  }
}

export class NotFoundError extends WhirlError {
  constructor(message: string = Messages.notFound) {
    super('NOT_FOUND', message);
  }
}

export class ForbiddenError extends WhirlError {
  constructor(message: string = Messages.forbidden) {
    super('FORBIDDEN', message);
  }
}

/** A store-level conflict: the document exists (create) or its revision moved (update/delete). */
export class ConflictError extends WhirlError {
  constructor(message: string = Messages.concurrentModification) {
    super('CONFLICT', message);
  }
}

export class PayloadTooLargeError extends WhirlError {
  constructor(what: string, size: number, limit: number) {
    super('PAYLOAD_TOO_LARGE', `${what} larger than allowed: ${size} > ${limit} bytes.`);
  }
}

export class UnauthorizedError extends WhirlError {
  constructor(message: string) {
    super('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': 'Basic realm="OpenWhisk secure realm"' } });
  }
}

/** A wrong verb on a path that exists; `allow` lists the verbs it serves. */
export class MethodNotAllowedError extends WhirlError {
  constructor(message: string, allow: string) {
    super('METHOD_NOT_ALLOWED', message, { headers: { Allow: allow } });
  }
}

/** A gateway API's key is missing or wrong: a 401 without a Basic challenge (browsers must not prompt). */
export class ApiKeyError extends WhirlError {
  constructor(message: string) {
    super('UNAUTHORIZED', message);
  }
}

export class TooManyRequestsError extends WhirlError {
  constructor(message: string, retryAfterSeconds: number) {
    super('TOO_MANY_REQUESTS', message, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
}

export class ServiceUnavailableError extends WhirlError {
  constructor(message: string) {
    super('SERVICE_UNAVAILABLE', message);
  }
}

export function isWhirlError(e: unknown): e is WhirlError {
  return e instanceof WhirlError;
}
