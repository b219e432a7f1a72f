/**
 * `/whisk.system/apimgmt/{createApi,getApi,deleteApi}`: the web actions through which the openwhisk
 * npm client (`routes.*`) and `wsk api` manage the gateway, run inside the controller as system
 * actions. Requests and answers follow OpenWhisk's core/routemgmt actions: createApi takes an `apidoc`
 * (one endpoint, or a whole `swagger`) and answers the API's `value` ({namespace, gwApiUrl,
 * gwApiActivated, tenantId, apidoc}); getApi answers `{apis: [{id, key, value}]}`; deleteApi `{}`.
 * `accesstoken` and `spaceguid` are accepted and not needed: the caller's credentials say whose APIs
 * these are. Where OpenWhisk answers every failure with a 502, Whirl answers 400 for bad input and 404
 * for what does not exist, each with a sentence that says what to fix.
 *
 * Each API is an entity (`WhiskApi`, see core/entities.ts) written through the entity cache, so a
 * change reaches every controller's gateway through the cacheInvalidation topic.
 */
import {
  ActivationStatus,
  ConflictError,
  Messages,
  NotFoundError,
  WhirlError,
  BadRequestError,
  type WhiskApi,
  type WhiskEntity,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import type { SystemActionCall, SystemActionResult, SystemActions } from '../catalog/system-actions.js';
import { isWebExtension } from '../routes/web.js';
import { resolveOwnedAction } from '../resolve.js';
import {
  RESPONSE_TYPES,
  VERBS,
  addEndpoint,
  apiEntityName,
  baseSwagger,
  checkImport,
  compileApi,
  hasOperations,
  isObject,
  normalizeBasePath,
  removeEndpoint,
  resolveNamespaces,
  type Json,
  type Verb,
} from './swagger.js';

export const APIMGMT_HANDLERS = { create: 'apimgmt/createApi', get: 'apimgmt/getApi', delete: 'apimgmt/deleteApi' } as const;

function respond(status: number, body: unknown): SystemActionResult {
  return { statusCode: ActivationStatus.Success, result: { statusCode: status, headers: { 'Content-Type': 'application/json' }, body } };
}

/** The platform's base URL as the caller reached it (nginx passes the original host and scheme). */
export function apiHostOf(headers: unknown): string {
  const h = isObject(headers) ? headers : {};
  const first = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v.split(',')[0]!.trim() : undefined);
  const proto = first(h['x-forwarded-proto']) ?? 'http';
  const host = first(h['x-forwarded-host']) ?? first(h.host) ?? '127.0.0.1:3233';
  return `${proto}://${host}`;
}

/** The gateway URL of an API: `<apihost>/api/<namespace><basepath>`. */
export function gatewayUrl(apiHost: string, ns: string, basePath: string): string {
  return `${apiHost}/api/${encodeURIComponent(ns)}${basePath === '/' ? '' : basePath}`;
}

function apiValue(ns: string, swagger: Json, apiHost: string): Json {
  const basePath = typeof swagger.basePath === 'string' ? normalizeBasePath(swagger.basePath) : '/';
  return { namespace: ns, gwApiActivated: true, tenantId: ns, gwApiUrl: gatewayUrl(apiHost, ns, basePath), apidoc: swagger };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function parseJsonField(v: unknown, field: string): Json {
  if (isObject(v)) return v;
  if (typeof v === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw new BadRequestError(`${field} field cannot be parsed. Ensure it is valid JSON.`);
    }
    if (isObject(parsed)) return parsed;
  }
  throw new BadRequestError(`${field} field is of type ${Array.isArray(v) ? 'array' : typeof v} and should be a JSON object or a JSON string.`);
}

/** An action exists when its document (or, through a package binding, the bound one) does; looked up as the route's owner. */
async function actionExists(ctx: Ctx, ns: string, fqName: string): Promise<boolean> {
  const parts = fqName.split('/');
  const fqn = parts.length === 1 ? { namespace: ns, name: fqName } : { namespace: ns, pkg: parts[0]!, name: parts[1]! };
  try {
    await resolveOwnedAction(ctx.cache, fqn);
    return true;
  } catch (e) {
    if (e instanceof NotFoundError) return false;
    throw e;
  }
}

async function requireActions(ctx: Ctx, swagger: Json): Promise<void> {
  const api = compileApi(swagger);
  for (const route of api.routes) {
    for (const op of Object.values(route.operations)) {
      const fq = op.pkg !== undefined ? `${op.pkg}/${op.name}` : op.name;
      if (!(await actionExists(ctx, op.target.namespace, fq))) {
        throw new NotFoundError(`Unable to get action '/${op.target.namespace}/${fq}': ${Messages.notFound}`);
      }
    }
  }
}

async function readApi(ctx: Ctx, ns: string, basePath: string): Promise<{ rev: string; doc: WhiskApi } | undefined> {
  const found = await ctx.entities.get(`${ns}/${apiEntityName(basePath)}`);
  return found && found.doc.entityType === 'api' ? { rev: found.rev, doc: found.doc } : undefined;
}

/** Writes with optimistic concurrency, retrying a few times when another writer got there first. */
async function writeApi(ctx: Ctx, ns: string, basePath: string, change: (current: Json | undefined) => Json | undefined): Promise<Json | undefined> {
  const docId = `${ns}/${apiEntityName(basePath)}`;
  for (let attempt = 0; ; attempt++) {
    const cur = await readApi(ctx, ns, basePath);
    const next = change(cur?.doc.swagger);
    try {
      if (next === undefined) {
        if (cur) await ctx.entities.delete(docId, cur.rev);
      } else {
        const doc: WhiskApi = {
          entityType: 'api',
          namespace: ns,
          name: apiEntityName(basePath),
          version: '0.0.1',
          publish: false,
          annotations: [],
          updated: Date.now(),
          swagger: next,
        };
        if (cur) await ctx.entities.update(doc, cur.rev);
        else await ctx.entities.create(doc as WhiskEntity);
      }
      ctx.cache.invalidate(docId);
      return next;
    } catch (e) {
      if (!(e instanceof ConflictError) || attempt >= 4) throw e;
    }
  }
}

async function createApi(ctx: Ctx, ns: string, p: Json): Promise<SystemActionResult> {
  if (p.apidoc === undefined) throw new BadRequestError('apidoc is required.');
  const doc = parseJsonField(p.apidoc, 'apidoc');
  const apiHost = apiHostOf(p.__ow_headers);
  const resolveNs = (n: string): string => (n === '_' ? ns : n);

  if (doc.swagger !== undefined) {
    if (doc.gatewayBasePath !== undefined) throw new BadRequestError('swagger and gatewayBasePath are mutually exclusive and cannot be specified together.');
    const swagger = resolveNamespaces(parseJsonField(doc.swagger, 'swagger'), ns);
    const api = compileApi(swagger, resolveNs);
    checkImport(swagger, api);
    await requireActions(ctx, swagger);
    const stored = { ...swagger, basePath: api.basePath };
    await writeApi(ctx, ns, api.basePath, () => stored);
    return respond(200, apiValue(ns, stored, apiHost));
  }

  for (const f of ['gatewayBasePath', 'gatewayPath', 'gatewayMethod'] as const) {
    if (str(doc[f]) === undefined) throw new BadRequestError(`apidoc is missing the ${f} field`);
  }
  const action = doc.action;
  if (!isObject(action)) throw new BadRequestError('apidoc is missing the action field.');
  for (const f of ['name', 'namespace'] as const) {
    if (str(action[f]) === undefined) throw new BadRequestError(`action is missing the ${f} field.`);
  }
  const basePath = normalizeBasePath(String(doc.gatewayBasePath));
  const relPath = String(doc.gatewayPath);
  if (!basePath.startsWith('/')) throw new BadRequestError(`'${basePath}' must begin with '/'.`);
  if (!relPath.startsWith('/')) throw new BadRequestError(`'${relPath}' must begin with '/'.`);
  const verb = String(doc.gatewayMethod).toLowerCase();
  if (!(VERBS as readonly string[]).includes(verb)) {
    throw new BadRequestError(`'${String(doc.gatewayMethod)}' is not a valid API verb.  Valid values are: ${VERBS.map((v) => v.toUpperCase()).join(', ')}`);
  }
  const responseType = str(p.responsetype) ?? 'json';
  if (!isWebExtension(responseType)) {
    throw new BadRequestError(`The response type '${responseType}' is not valid. Possible values are ${RESPONSE_TYPES.join(', ')}.`);
  }
  const actionNs = resolveNs(String(action.namespace));
  const actionName = String(action.name);
  if (!(await actionExists(ctx, actionNs, actionName))) {
    throw new NotFoundError(`Unable to get action '/${actionNs}/${actionName}': ${Messages.notFound}`);
  }
  const apiName = str(doc.apiName);
  const pathParameters = Array.isArray(doc.pathParameters) ? doc.pathParameters : undefined;
  const saved = await writeApi(ctx, ns, basePath, (cur) => {
    const next = addEndpoint(cur ?? baseSwagger(basePath, apiName), {
      basePath,
      relPath,
      verb: verb as Verb,
      ...(apiName !== undefined ? { apiName } : {}),
      ...(pathParameters !== undefined ? { pathParameters } : {}),
      action: { namespace: actionNs, name: actionName },
      responseType,
      apiHost,
    });
    compileApi(next);
    return next;
  });
  return respond(200, apiValue(ns, saved!, apiHost));
}

async function listApis(ctx: Ctx, ns: string): Promise<WhiskApi[]> {
  const out: WhiskApi[] = [];
  for (let skip = 0; ; skip += 200) {
    const page = await ctx.entities.list({ entityType: 'api', namespace: ns, limit: 200, skip });
    for (const e of page) if (e.entityType === 'api') out.push(e);
    if (page.length < 200) return out;
  }
}

/** A base path (`/club`) or an API name (`Book Club`). */
async function findApis(ctx: Ctx, ns: string, basepathOrName: string | undefined): Promise<WhiskApi[]> {
  if (basepathOrName === undefined) return listApis(ctx, ns);
  if (basepathOrName.startsWith('/')) {
    const one = await readApi(ctx, ns, normalizeBasePath(basepathOrName));
    if (one) return [one.doc];
  }
  return (await listApis(ctx, ns)).filter((a) => isObject(a.swagger.info) && a.swagger.info.title === basepathOrName);
}

function intParam(v: unknown, name: string, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BadRequestError(`The ${name} parameter must be a non-negative integer; it is '${String(v)}'.`);
  return n;
}

async function getApi(ctx: Ctx, ns: string, p: Json): Promise<SystemActionResult> {
  const apiHost = apiHostOf(p.__ow_headers);
  const skip = intParam(p.skip, 'skip', 0);
  const limit = intParam(p.limit, 'limit', 0);
  const apis = (await findApis(ctx, ns, str(p.basepath))).sort((a, b) => String(a.swagger.basePath).localeCompare(String(b.swagger.basePath)));
  const page = apis.slice(skip, limit > 0 ? skip + limit : undefined);
  return respond(200, {
    apis: page.map((a) => ({ id: `API:${ns}:${String(a.swagger.basePath)}`, key: ns, value: apiValue(ns, a.swagger, apiHost) })),
  });
}

async function deleteApi(ctx: Ctx, ns: string, p: Json): Promise<SystemActionResult> {
  const given = str(p.basepath);
  if (given === undefined) throw new BadRequestError('basepath is required.');
  const relPath = str(p.relpath);
  const operation = str(p.operation);
  if (relPath === undefined && operation !== undefined) throw new BadRequestError('When specifying an operation, the path is required.');
  const [api] = await findApis(ctx, ns, given);
  if (!api) throw new NotFoundError(`API deletion failure: API '${given}' does not exist.`);
  const basePath = normalizeBasePath(String(api.swagger.basePath));
  await writeApi(ctx, ns, basePath, (cur) => {
    if (cur === undefined) throw new NotFoundError(`API deletion failure: API '${given}' does not exist.`);
    if (relPath === undefined) return undefined;
    const next = removeEndpoint(cur, relPath, operation);
    if (typeof next === 'string') throw new NotFoundError(`API deletion failure: ${next}`);
    return hasOperations(next) ? next : undefined;
  });
  return respond(200, {});
}

/** Registers the three handlers; the catalog's apimgmt actions name them with `whirl-internal`. */
export function registerApiManagement(ctx: Ctx, system: SystemActions): void {
  const wrap =
    (fn: (ctx: Ctx, ns: string, p: Json) => Promise<SystemActionResult>) =>
    async (call: SystemActionCall): Promise<SystemActionResult> => {
      // The web action runs as whisk.system; whose APIs these are is the caller's namespace, which
      // only valid credentials set (the actions require them).
      const ns = str(call.params.__ow_user);
      if (ns === undefined) return respond(401, { error: 'A valid auth key is required.', code: call.transid });
      try {
        return await fn(ctx, ns, call.params);
      } catch (e) {
        if (e instanceof WhirlError && e.statusCode < 500) return respond(e.statusCode, { error: e.message, code: call.transid });
        throw e;
      }
    };
  system.register(APIMGMT_HANDLERS.create, wrap(createApi));
  system.register(APIMGMT_HANDLERS.get, wrap(getApi));
  system.register(APIMGMT_HANDLERS.delete, wrap(deleteApi));
}
