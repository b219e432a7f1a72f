/**
 * Web actions: `/api/v1/web/{namespace}/{package|default}/{action}[.ext][/path]` for every method.
 * The action must be annotated `web-export: true`; it runs as its owner and the HTTP request is its
 * input (query, body, method, headers, path). Its result is projected onto the HTTP response by the
 * extension: `.json`, `.html`, `.svg`, `.text`, or `.http` (the default: the action controls status,
 * headers and body). Rules and messages follow OpenWhisk (OPENWHISK-COMPAT.md §6).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ActivationStatus,
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  WhirlError,
  annotation,
  checkName,
  looksLikeBase64,
  type Identity,
  type WhiskAction,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import { blockedMessage } from '../auth.js';
import { resolveOwnedAction, type ResolvedAction } from '../resolve.js';

const EXTENSIONS = ['json', 'html', 'http', 'svg', 'text'] as const;
export type Extension = (typeof EXTENSIONS)[number];
const RESERVED = ['__ow_method', '__ow_headers', '__ow_path', '__ow_user', '__ow_query', '__ow_body'];
const CORS_METHODS = 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH';
const CORS_HEADERS_DEFAULT = 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent';
const processingError = 'There was an error processing your request.';

class WebResponseError extends BadRequestError {}

/** Which web action a request runs, and how its result becomes the response. */
export interface WebTarget {
  namespace: string;
  /** undefined for `default`. */
  pkg: string | undefined;
  name: string;
  ext: Extension;
  /** `__ow_path`. */
  restPath: string;
}

export interface WebServeOptions {
  /** Add the web-action CORS headers and answer OPTIONS (unless the action asks for web-custom-options). */
  cors: boolean;
  /**
   * The caller reached the action through a gateway route its owner created, so a `require-whisk-auth`
   * secret is satisfied as OpenWhisk's gateway satisfies it (it sends the secret itself).
   */
  trustedSecret?: boolean;
  /** The error for a missing action (`missing`) or one that is not web-exported (`not-web`). */
  notFound?: (why: 'missing' | 'not-web') => WhirlError;
}

export type WebServe = (req: FastifyRequest, reply: FastifyReply, target: WebTarget, opts: WebServeOptions) => Promise<FastifyReply>;

export function isWebExtension(ext: string): ext is Extension {
  return (EXTENSIONS as readonly string[]).includes(ext);
}

/** Web actions take any content type; the body is kept raw and interpreted by the action's request mapping. */
export function rawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

/** Runs one web action for one HTTP request; shared by `/api/v1/web` and the API gateway. */
export function webActionServer(ctx: Ctx): WebServe {
  const owners = new Map<string, { identity: Identity | undefined; expires: number }>();
  const ownerOf = async (ns: string): Promise<Identity | undefined> => {
    const hit = owners.get(ns);
    if (hit && hit.expires > Date.now()) return hit.identity;
    const subject = await ctx.subjects.getSubject(ns);
    // A blocked namespace refuses its web actions too (403), as every other call.
    if (subject?.blocked === true) throw new ForbiddenError(blockedMessage, 'SUBJECT_BLOCKED');
    const cred = subject?.namespaces.find((n) => n.name === ns);
    // Keys are stored hashed, so an anonymous web call runs as the owner without the owner's key.
    const identity = cred && subject
      ? { subject: subject.subject, namespace: { name: cred.name, uuid: cred.uuid, key: '' }, limits: await ctx.subjects.getLimits(ns) }
      : undefined;
    owners.set(ns, { identity, expires: Date.now() + 10_000 });
    return identity;
  };

  return async (req, reply, target, opts) => {
    const received = Date.now();
    const { namespace: ns, pkg, name, ext, restPath } = target;
    const missing = (why: 'missing' | 'not-web'): WhirlError => opts.notFound?.(why) ?? new NotFoundError();
    const owner = await ownerOf(ns);
    if (!owner) throw missing('missing');
    const { action, packageParams, binding } = await findWebAction(ctx, ns, pkg, name, missing);
    const a = action.doc;
    const customOptions = annotation(a.annotations, 'web-custom-options') === true;
    if (opts.cors && !customOptions) {
      void reply.header('Access-Control-Allow-Origin', '*');
      void reply.header('Access-Control-Allow-Methods', CORS_METHODS);
      const asked = req.headers['access-control-request-headers'];
      void reply.header('Access-Control-Allow-Headers', typeof asked === 'string' && asked !== '' ? asked : CORS_HEADERS_DEFAULT);
      if (req.method === 'OPTIONS') return reply.code(200).send();
    }

    // Credentials are optional for web actions; when sent they must be valid.
    let caller: Identity | undefined;
    try {
      caller = await ctx.auth.identify(req.headers.authorization);
    } catch (e) {
      if (!(e instanceof WhirlError)) throw e;
    }
    checkWhiskAuth(a, req, caller, opts.trustedSecret === true);

    const raw = annotation(a.annotations, 'raw-http') === true;
    const payload = requestParams(req, raw, restPath, caller);
    if (!raw) {
      const defined = new Set([...packageParams, ...a.parameters].filter((p) => p.value !== undefined).map((p) => p.key));
      const isFinal = annotation(a.annotations, 'final') === true;
      for (const k of Object.keys(payload.user)) {
        if (RESERVED.includes(k) || (isFinal && defined.has(k))) {
          throw new BadRequestError('Request defines parameters that are not allowed (e.g., reserved properties).');
        }
      }
    }
    // In-controller system actions (route management) cost no container, so they do not count
    // against the system namespace's invocation rate that every caller would share.
    if (!ctx.systemActions.handlerFor(a)) ctx.throttles.invoke(owner.namespace.name, ctx.userLimits(owner));
    const outcome = await ctx.invoker.invoke({
      identity: owner,
      action,
      packageParams,
      ...(binding !== undefined ? { binding } : {}),
      payload: { ...payload.user, ...payload.system },
      blocking: true,
      waitMs: ctx.config.blockingWaitMs,
      transid: req.id,
      received,
    });
    void reply.header('x-openwhisk-activation-id', outcome.activationId);
    const record = outcome.record;
    if (!record) return reply.code(202).send({ error: 'Response not yet ready.', code: req.id });
    const code = record.response.statusCode;
    if (code === ActivationStatus.DeveloperError || code === ActivationStatus.WhiskError) {
      throw new BadRequestError(processingError);
    }
    let result = record.response.result;
    if (code === ActivationStatus.ApplicationError && isObject(result)) result = result.error;
    return project(reply, ext, result);
  };
}

export async function webRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  rawBodies(app);
  const serve = webActionServer(ctx);

  const webDoc = {
    summary: 'Web action: /api/v1/web/{namespace}/{package|default}/{action}[.json|.html|.http|.svg|.text][/path], any method',
    tags: ['web'],
    auth: false,
    description: 'The HTTP request is the action input; the result is projected onto the response by the extension. Every HTTP method is served.',
    responses: {
      200: { description: "The action's projected result (any content type).", contentType: '*/*' },
      400: 'The result does not fit the extension, or the request is not valid for the action.',
      401: 'The action requires authentication (require-whisk-auth) and the request has none or the wrong one.',
      404: 'No such web action (or it is not web-exported).',
      502: 'The action failed.',
    },
  };
  app.all('/api/v1/web/*', { config: { doc: webDoc } }, async (req, reply) => {
    const path = (req.url.split('?')[0] ?? '').slice('/api/v1/web/'.length);
    const segments = path.split('/').map((s) => decodeURIComponent(s));
    if (segments.length < 3 || segments.some((s, i) => i < 3 && s === '')) throw new NotFoundError();
    const [ns, pkgName, actionSegment] = segments as [string, string, string];
    const restPath = segments.length > 3 ? `/${segments.slice(3).join('/')}` : '';
    let name = actionSegment;
    let ext: Extension = 'http';
    const dot = actionSegment.lastIndexOf('.');
    if (dot > 0 && isWebExtension(actionSegment.slice(dot + 1))) {
      ext = actionSegment.slice(dot + 1) as Extension;
      name = actionSegment.slice(0, dot);
    }
    checkName(ns, 'namespace');
    checkName(name);
    const pkg = pkgName === 'default' ? undefined : checkName(pkgName);
    return serve(req, reply, { namespace: ns, pkg, name, ext, restPath }, { cors: true });
  });
}

async function findWebAction(
  ctx: Ctx,
  ns: string,
  pkg: string | undefined,
  name: string,
  missing: (why: 'missing' | 'not-web') => WhirlError,
): Promise<ResolvedAction> {
  let found: ResolvedAction;
  try {
    found = await resolveOwnedAction(ctx.cache, { namespace: ns, ...(pkg !== undefined ? { pkg } : {}), name });
  } catch (e) {
    if (e instanceof NotFoundError) throw missing('missing');
    throw e;
  }
  const webExport = annotation(found.action.doc.annotations, 'web-export');
  if (webExport !== true && webExport !== 'true') throw missing('not-web');
  return found;
}

/** `require-whisk-auth`: true needs valid credentials; a string or number needs that secret in X-Require-Whisk-Auth. */
function checkWhiskAuth(a: WhiskAction, req: FastifyRequest, caller: Identity | undefined, trustedSecret: boolean): void {
  const required = annotation(a.annotations, 'require-whisk-auth');
  if (required === undefined || required === false) return;
  if (trustedSecret && (typeof required === 'string' || typeof required === 'number')) return;
  if (required === true) {
    if (!caller) throw new UnauthorizedError('The resource requires authentication, which was not supplied with the request');
    return;
  }
  if (typeof required === 'string' || typeof required === 'number') {
    if (req.headers['x-require-whisk-auth'] === String(required)) return;
  }
  throw new UnauthorizedError('The supplied authentication is invalid');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTextual(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t.startsWith('text/') || /[/+](json|xml)$/.test(t) || t === 'application/x-www-form-urlencoded' || t === 'application/javascript' || t === 'image/svg+xml';
}

function requestParams(
  req: FastifyRequest,
  raw: boolean,
  restPath: string,
  caller: Identity | undefined,
): { user: Record<string, unknown>; system: Record<string, unknown> } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const system: Record<string, unknown> = {
    __ow_method: req.method.toLowerCase(),
    __ow_headers: headers,
    __ow_path: restPath,
  };
  if (caller) system.__ow_user = caller.namespace.name;
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const contentType = String(req.headers['content-type'] ?? '');
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  const queryString = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';

  if (raw) {
    system.__ow_query = queryString;
    system.__ow_body = body.length === 0 ? '' : mediaType === 'application/json' || !isTextual(contentType) ? body.toString('base64') : body.toString('utf8');
    return { user: {}, system };
  }

  const user: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(queryString)) user[k] = v;
  if (body.length > 0) {
    if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new BadRequestError('The request content was malformed: the body is not valid JSON.');
      }
      if (isObject(parsed)) Object.assign(user, parsed);
      else system.__ow_body = body.toString('utf8');
    } else if (mediaType === 'application/x-www-form-urlencoded') {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) user[k] = v;
    } else if (isTextual(contentType)) {
      system.__ow_body = body.toString('utf8');
    } else {
      system.__ow_body = body.toString('base64');
    }
  }
  return { user, system };
}

function project(reply: FastifyReply, ext: Extension, result: unknown): FastifyReply {
  switch (ext) {
    case 'json':
      if (!isObject(result) && !Array.isArray(result)) throw new WebResponseError("Response is not valid 'application/json'.");
      return reply.code(200).type('application/json').send(JSON.stringify(result));
    case 'html':
    case 'svg':
    case 'text': {
      const field = ext === 'html' ? 'html' : ext === 'svg' ? 'svg' : 'text';
      const type = ext === 'html' ? 'text/html' : ext === 'svg' ? 'image/svg+xml' : 'text/plain';
      const value = isObject(result) ? (result.body ?? result[field]) : undefined;
      if (typeof value === 'string') return reply.code(200).type(type).send(value);
      if (ext === 'text' && value !== undefined) return reply.code(200).type(type).send(JSON.stringify(value, null, 2));
      throw new WebResponseError(`Response is not valid '${type}'.`);
    }
    case 'http':
      return projectHttp(reply, result);
  }
}

function projectHttp(reply: FastifyReply, result: unknown): FastifyReply {
  const invalid = (): never => {
    throw new WebResponseError("Response is not valid 'message/http'.");
  };
  if (!isObject(result)) return invalid();
  const headers: Record<string, string | string[]> = {};
  if (result.headers !== undefined) {
    if (!isObject(result.headers)) return invalid();
    for (const [k, v] of Object.entries(result.headers)) {
      if (Array.isArray(v)) headers[k] = v.map((x) => String(x));
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') headers[k] = String(v);
      else return invalid();
    }
  }
  let status: number | undefined;
  if (result.statusCode !== undefined) {
    const n = typeof result.statusCode === 'string' && /^\d+$/.test(result.statusCode) ? Number(result.statusCode) : result.statusCode;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > 599) return invalid();
    status = n;
  }
  const body = result.body;
  const ctKey = Object.keys(headers).find((k) => k.toLowerCase() === 'content-type');
  const declared = ctKey ? String(headers[ctKey]) : undefined;
  let payload: string | Buffer | undefined;
  let contentType = declared;
  if (body === undefined || body === null || body === '') {
    payload = undefined;
  } else if (typeof body === 'string') {
    contentType = declared ?? 'text/html';
    const jsonFamily = /[/+]json/.test(contentType);
    if (!isTextual(contentType) || (jsonFamily && looksLikeBase64(body) && !/^\s*[[{"]/.test(body))) {
      if (!looksLikeBase64(body)) throw new WebResponseError('Response did not specify a known content-type.');
      payload = Buffer.from(body, 'base64');
    } else {
      payload = body;
    }
  } else {
    if (declared && !/[/+]json/.test(declared)) throw new WebResponseError('Response type in header did not match generated content type.');
    contentType = declared ?? 'application/json';
    payload = JSON.stringify(body);
  }
  for (const [k, v] of Object.entries(headers)) if (k !== ctKey) void reply.header(k, v);
  if (contentType !== undefined && payload !== undefined) void reply.type(contentType);
  const code = status ?? (payload === undefined ? 204 : 200);
  return reply.code(code).send(payload);
}
