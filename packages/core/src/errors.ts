/**
 * The one error catalogue. Every failure the platform reports over HTTP is a WhirlError with a stable
 * `code` (never reused) and an HTTP status; exactly one Fastify error handler renders it as OpenWhisk's
 * body `{"error": message, "code": <transaction id>}`. Messages are OpenWhisk's own wording where
 * clients depend on it, otherwise a sentence that tells the caller what to fix.
 */

/**
 * Every code and the HTTP status it answers with. A failure that a caller (another module, a test, an
 * operator reading logs) must tell apart from others has a code of its own; a code is never reused
 * for a different failure. Code names go out in the `X-Whirl-Error-Code` response header: OpenWhisk's
 * body keeps `code` for the transaction id, which clients rely on.
 */
export const ErrorCodes = {
  /** A field, parameter, query or body fails its check; the message names what and how to fix it. */
  BAD_REQUEST: 400,
  /** A referenced entity (a binding's package, a rule's action) does not exist. */
  MISSING_REFERENCE: 400,
  UNAUTHENTICATED: 401,
  BAD_CREDENTIALS: 401,
  /** A gateway API's key, or a webhook's signature, is missing or wrong (no Basic challenge). */
  BAD_API_KEY: 401,
  BAD_SIGNATURE: 401,
  /** The admin API's Bearer key is missing or wrong. */
  BAD_ADMIN_KEY: 401,
  /** OpenWhisk's entitlement: not yours and not shared with you (also for what does not exist). */
  NOT_ENTITLED: 403,
  SUBJECT_BLOCKED: 403,
  KIND_NOT_ALLOWED: 403,
  ADMIN_KEY_REQUIRED: 403,
  INTERNAL_TOKEN_WRONG: 403,
  FORBIDDEN: 403,
  /** An entity of the caller's own that does not exist. */
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /** Create without overwrite of a name that is taken. */
  ENTITY_EXISTS: 409,
  /** The name belongs to an entity of another collection (an action where a package was asked for). */
  WRONG_COLLECTION: 409,
  /** The document's revision moved under the caller. */
  CONCURRENT_MODIFICATION: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVOCATIONS_PER_MINUTE: 429,
  CONCURRENT_INVOCATIONS: 429,
  FIRES_PER_MINUTE: 429,
  API_RATE_LIMIT: 429,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  NO_INVOKERS: 503,
  STORE_UNAVAILABLE: 503,
  BUS_UNAVAILABLE: 503,
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

type CodeOf<S extends number> = { [K in ErrorCode]: (typeof ErrorCodes)[K] extends S ? K : never }[ErrorCode];

export class BadRequestError extends WhirlError {
  constructor(message: string, code: CodeOf<400> = 'BAD_REQUEST') {
    super(code, message);
  }
}

export class NotFoundError extends WhirlError {
  constructor(message: string = Messages.notFound, code: CodeOf<404> = message === Messages.routeNotFound ? 'ROUTE_NOT_FOUND' : 'NOT_FOUND') {
    super(code, message);
  }
}

/** Without arguments: OpenWhisk's entitlement refusal. */
export class ForbiddenError extends WhirlError {
  constructor(message: string = Messages.forbidden, code: CodeOf<403> = message === Messages.forbidden ? 'NOT_ENTITLED' : 'FORBIDDEN') {
    super(code, message);
  }
}

/** A store-level conflict: the document exists (create) or its revision moved (update/delete). */
export class ConflictError extends WhirlError {
  constructor(message: string = Messages.concurrentModification, code: CodeOf<409> = conflictCode(message)) {
    super(code, message);
  }
}

function conflictCode(message: string): CodeOf<409> {
  if (message === Messages.concurrentModification) return 'CONCURRENT_MODIFICATION';
  if (message === Messages.exists) return 'ENTITY_EXISTS';
  if (message === Messages.wrongCollection) return 'WRONG_COLLECTION';
  return 'CONFLICT';
}

export class PayloadTooLargeError extends WhirlError {
  constructor(what: string, size: number, limit: number) {
    super('PAYLOAD_TOO_LARGE', `${what} larger than allowed: ${size} > ${limit} bytes.`);
  }
}

export class UnauthorizedError extends WhirlError {
  constructor(message: string, code: CodeOf<401> = message === Messages.missingAuth ? 'UNAUTHENTICATED' : 'BAD_CREDENTIALS') {
    super(code, message, { headers: { 'WWW-Authenticate': 'Basic realm="OpenWhisk secure realm"' } });
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
    super('BAD_API_KEY', message);
  }
}

export class TooManyRequestsError extends WhirlError {
  constructor(message: string, retryAfterSeconds: number, code: CodeOf<429>) {
    super(code, message, { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
}

export class ServiceUnavailableError extends WhirlError {
  constructor(message: string, code: CodeOf<503> = message === Messages.noInvokers ? 'NO_INVOKERS' : 'SERVICE_UNAVAILABLE') {
    super(code, message);
  }
}

export function isWhirlError(e: unknown): e is WhirlError {
  return e instanceof WhirlError;
}
