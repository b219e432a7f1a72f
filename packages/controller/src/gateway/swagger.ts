/**
 * The API documents of the built-in gateway, as pure functions over swagger 2.0 objects.
 *
 * An API is one namespace's routes under one base path. It is kept in the form OpenWhisk's apimgmt
 * actions hand to clients (`apis[].value.apidoc`): a swagger 2.0 document whose operations carry an
 * `x-openwhisk` object `{namespace, package, action, url}`, where `url` is the target web action's URL
 * and its extension (`.json`, `.http`, ...) is the response type. `wsk api create` adds one operation
 * at a time (addEndpoint), `wsk api create --config-file` replaces the whole document (checkSwagger),
 * and the gateway reads routes back out of it (compileApi).
 *
 * Gateway features a swagger can switch on (docs/api-gateway.md):
 * - API keys: a `securityDefinitions` entry of `type: apiKey` (`in: header|query`, `name`) named in the
 *   top-level `security`, with the accepted keys in the Whirl extension `x-whirl-api-keys`.
 * - A rate limit per API: `x-openwhisk-rate-limit: {rate, unit}` (unit second|minute|hour|day), or
 *   the IBM gateway's `x-ibm-rate-limit: [{rate, unit, units}]`.
 * - CORS is on unless `x-ibm-configuration.cors.enabled` is false.
 */
import { BadRequestError } from '@whirl/core';
import { isWebExtension, type Extension } from '../routes/web.js';

export const VERBS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
export type Verb = (typeof VERBS)[number];
export const RESPONSE_TYPES = ['json', 'http', 'html', 'text', 'svg'] as const;

export type Json = Record<string, unknown>;

export interface XOpenWhisk {
  namespace: string;
  package: string;
  action: string;
  url: string;
}

export interface PathParameter {
  name: string;
  in: 'path';
  description?: string;
  required?: boolean;
  type?: string;
}

/** What `wsk api create BASE PATH VERB ACTION` and `routes.create` send (the non-swagger apidoc). */
export interface Endpoint {
  basePath: string;
  relPath: string;
  verb: Verb;
  apiName?: string;
  pathParameters?: unknown[];
  /** Fully resolved: never `_`. */
  action: { namespace: string; name: string };
  responseType: Extension;
  /** Protocol and host of the platform, for the operation's `url`. */
  apiHost: string;
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The name of the entity that holds a namespace's API at a base path. */
export function apiEntityName(basePath: string): string {
  return `api:${basePath}`;
}

/** `/club/` and `/club` are one base path; `/` stays `/`. */
export function normalizeBasePath(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

const PARAM_SEGMENT = /^\{([^/{}]+)\}$/;

export function pathParameterNames(relPath: string): string[] {
  return relPath
    .split('/')
    .map((s) => PARAM_SEGMENT.exec(s)?.[1])
    .filter((n): n is string => n !== undefined);
}

export function baseSwagger(basePath: string, apiName: string | undefined): Json {
  return { swagger: '2.0', info: { title: apiName ?? basePath, version: '1.0.0' }, basePath, paths: {} };
}

/** OpenWhisk's operationId: the verb, then each path word capitalised (`getBooksId` for GET /books/{id}). */
export function operationId(verb: string, relPath: string): string {
  const words = relPath.replace(/[^0-9a-z_-]/gi, ' ').split(/\s+/).filter((w) => w !== '');
  return verb.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('');
}

export function webActionUrl(apiHost: string, namespace: string, fqName: string, responseType: string): string {
  const parts = fqName.split('/');
  const action = parts.pop()!;
  const pkg = parts.length > 0 ? parts.join('/') : 'default';
  return `${apiHost.replace(/\/+$/, '')}/api/v1/web/${namespace}/${pkg}/${action}.${responseType}`;
}

/** Adds (or replaces: a duplicate route updates the existing one, as in OpenWhisk) one operation. */
export function addEndpoint(swagger: Json, e: Endpoint): Json {
  const out = structuredClone(swagger);
  const paths = (isObject(out.paths) ? out.paths : (out.paths = {})) as Json;
  const path = (isObject(paths[e.relPath]) ? paths[e.relPath] : (paths[e.relPath] = {})) as Json;
  const parts = e.action.name.split('/');
  const action = parts.pop()!;
  path[e.verb] = {
    operationId: operationId(e.verb, e.relPath),
    ...(e.pathParameters !== undefined && e.pathParameters.length > 0 ? { parameters: e.pathParameters } : {}),
    'x-openwhisk': {
      namespace: e.action.namespace,
      package: parts.join('/'),
      action,
      url: webActionUrl(e.apiHost, e.action.namespace, e.action.name, e.responseType),
    } satisfies XOpenWhisk,
    responses: { default: { description: 'Default response' } },
  };
  return out;
}

/**
 * Removes a path (or one verb of it). Returns the new document, or a sentence saying what does not
 * exist (OpenWhisk's deleteApi wording).
 */
export function removeEndpoint(swagger: Json, relPath: string, verb: string | undefined): Json | string {
  const out = structuredClone(swagger);
  const paths = isObject(out.paths) ? out.paths : {};
  const path = paths[relPath];
  if (!isObject(path)) return `path '${relPath}' does not exist in the API`;
  if (verb === undefined) {
    delete paths[relPath];
    return out;
  }
  const op = verb.toLowerCase();
  if (!isObject(path[op])) return `path '${relPath}' with operation '${op}' does not exist in the API`;
  delete path[op];
  if (Object.keys(path).filter((k) => k !== 'parameters').length === 0) delete paths[relPath];
  return out;
}

export function hasOperations(swagger: Json): boolean {
  return isObject(swagger.paths) && Object.keys(swagger.paths).length > 0;
}

/** A compiled route: what the gateway needs to serve one path of an API. */
export interface CompiledRoute {
  relPath: string;
  segments: string[];
  params: number;
  operations: Partial<Record<Verb, { target: XOpenWhisk; ext: Extension; pkg: string | undefined; name: string }>>;
}

export interface ApiKeyRule {
  in: 'header' | 'query';
  name: string;
  keys: string[];
}

export interface RateLimit {
  rate: number;
  /** The window in ms. */
  perMs: number;
}

export interface CompiledApi {
  basePath: string;
  routes: CompiledRoute[];
  apiKey: ApiKeyRule | undefined;
  rateLimit: RateLimit | undefined;
  cors: boolean;
}

const UNIT_MS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function rateLimitOf(swagger: Json): RateLimit | undefined {
  const own = swagger['x-openwhisk-rate-limit'];
  const ibm = swagger['x-ibm-rate-limit'];
  const raw = own ?? ibm;
  if (raw === undefined) return undefined;
  const key = own !== undefined ? 'x-openwhisk-rate-limit' : 'x-ibm-rate-limit';
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (Array.isArray(raw) && raw.length !== 1) {
    throw new BadRequestError(`The swagger's ${key} must hold exactly one limit ({"rate": N, "unit": "minute"}); it holds ${raw.length}.`);
  }
  if (!isObject(first)) throw new BadRequestError(`The swagger's ${key} must be an object like {"rate": 100, "unit": "minute"}.`);
  const rate = first.rate;
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1) {
    throw new BadRequestError(`The swagger's ${key}.rate must be a positive integer; it is ${JSON.stringify(rate)}.`);
  }
  const unit = first.unit ?? 'minute';
  if (typeof unit !== 'string' || UNIT_MS[unit] === undefined) {
    throw new BadRequestError(`The swagger's ${key}.unit must be one of second, minute, hour, day; it is ${JSON.stringify(unit)}.`);
  }
  const units = first.units ?? 1;
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) {
    throw new BadRequestError(`The swagger's ${key}.units must be a positive integer; it is ${JSON.stringify(units)}.`);
  }
  return { rate, perMs: UNIT_MS[unit]! * units };
}

function apiKeyOf(swagger: Json): ApiKeyRule | undefined {
  const security = swagger.security;
  if (security === undefined) return undefined;
  if (!Array.isArray(security)) throw new BadRequestError('The swagger\'s security must be an array like [{"my_key": []}].');
  const defs = isObject(swagger.securityDefinitions) ? swagger.securityDefinitions : {};
  const names = security.flatMap((s) => (isObject(s) ? Object.keys(s) : []));
  if (names.length === 0) return undefined;
  if (names.length > 1) throw new BadRequestError(`The swagger's security names ${names.length} schemes; the gateway supports one apiKey scheme.`);
  const name = names[0]!;
  const def = defs[name];
  if (!isObject(def)) throw new BadRequestError(`The swagger's security names '${name}', which securityDefinitions does not define.`);
  if (def.type !== 'apiKey') throw new BadRequestError(`securityDefinitions.${name} has type ${JSON.stringify(def.type)}; the gateway supports only type apiKey.`);
  if (def.in !== 'header' && def.in !== 'query') throw new BadRequestError(`securityDefinitions.${name}.in must be header or query.`);
  if (typeof def.name !== 'string' || def.name === '') throw new BadRequestError(`securityDefinitions.${name}.name must name the header or query parameter that carries the key.`);
  const keys = def['x-whirl-api-keys'];
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' && k !== '')) {
    throw new BadRequestError(`securityDefinitions.${name} must list the accepted keys as a non-empty array of strings in x-whirl-api-keys.`);
  }
  return { in: def.in, name: def.name, keys: keys as string[] };
}

/**
 * Checks a whole swagger document (an import, or the result of adding an endpoint) and compiles its
 * routes. Every problem is a 400 that names the field to fix. `resolveNs` turns `_` into the caller.
 */
export function compileApi(swagger: Json, resolveNs: (ns: string) => string = (ns) => ns): CompiledApi {
  if (swagger.swagger !== '2.0' && typeof swagger.openapi !== 'string') {
    throw new BadRequestError('The swagger must declare "swagger": "2.0".');
  }
  if (!isObject(swagger.info)) throw new BadRequestError('swagger is missing the info field.');
  if (typeof swagger.basePath !== 'string' || swagger.basePath === '') throw new BadRequestError('swagger is missing the basePath field.');
  if (!swagger.basePath.startsWith('/')) throw new BadRequestError('Swagger file basePath must start with a leading slash (/)');
  if (pathParameterNames(swagger.basePath).length > 0 || /[{}]/.test(swagger.basePath)) {
    throw new BadRequestError(`The base path (${swagger.basePath}) cannot have parameters. Only the relative path supports path parameters.`);
  }
  if (!isObject(swagger.paths)) throw new BadRequestError('swagger is missing the paths field.');
  const routes: CompiledRoute[] = [];
  for (const [relPath, pathItem] of Object.entries(swagger.paths)) {
    if (!relPath.startsWith('/')) throw new BadRequestError(`The path '${relPath}' must begin with '/'.`);
    if (!isObject(pathItem)) throw new BadRequestError(`paths['${relPath}'] must be an object of operations.`);
    const names = pathParameterNames(relPath);
    if (names.length !== (relPath.match(/\{/g) ?? []).length) {
      throw new BadRequestError(`The path '${relPath}' has a malformed parameter: each one must be a whole segment, like /books/{id}.`);
    }
    const shared = Array.isArray(pathItem.parameters) ? pathItem.parameters : [];
    const route: CompiledRoute = { relPath, segments: relPath.split('/').slice(1), params: names.length, operations: {} };
    for (const [key, op] of Object.entries(pathItem)) {
      if (key === 'parameters') continue;
      const verb = key.toLowerCase();
      if (!(VERBS as readonly string[]).includes(verb)) {
        throw new BadRequestError(`paths['${relPath}'] has the operation '${key}'; valid operations are ${VERBS.join(', ')}.`);
      }
      if (!isObject(op)) throw new BadRequestError(`paths['${relPath}'].${key} must be an object.`);
      const where = `paths['${relPath}'].${key}['x-openwhisk']`;
      const x = op['x-openwhisk'];
      if (!isObject(x)) throw new BadRequestError(`${where} is missing: every operation must name its action with x-openwhisk {namespace, package, action, url}.`);
      if (typeof x.action !== 'string' || x.action === '') throw new BadRequestError(`${where}.action must name the action.`);
      if (typeof x.namespace !== 'string' || x.namespace === '') throw new BadRequestError(`${where}.namespace must name the action's namespace.`);
      if (x.package !== undefined && typeof x.package !== 'string') throw new BadRequestError(`${where}.package must be a string ('' for none).`);
      if (typeof x.url !== 'string') throw new BadRequestError(`${where}.url must be the web action URL, ending in .json, .http, .html, .text or .svg.`);
      const ext = /\.(\w+)$/.exec(x.url)?.[1] ?? '';
      if (!isWebExtension(ext)) {
        throw new BadRequestError(`${where}.url ends in '.${ext}'; it must end in one of ${RESPONSE_TYPES.map((t) => `.${t}`).join(', ')}.`);
      }
      if (names.length > 0 && ext !== 'http') {
        throw new BadRequestError("The action must use a response type of '.http' in order to receive the path parameters.");
      }
      const declared = [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]
        .filter(isObject)
        .map((p) => p.name);
      for (const n of names) {
        if (!declared.includes(n)) {
          throw new BadRequestError(`The parameter '${n}' defined in path '${relPath}' does not match any of the parameters defined for the path in the swagger file.`);
        }
      }
      const ns = resolveNs(x.namespace);
      const pkg = typeof x.package === 'string' && x.package !== '' ? x.package : undefined;
      const target: XOpenWhisk = { namespace: ns, package: pkg ?? '', action: x.action, url: x.url };
      route.operations[verb as Verb] = { target, ext, pkg, name: x.action };
    }
    routes.push(route);
  }
  // Literal segments win over parameters: /books/new before /books/{id}.
  routes.sort((a, b) => a.params - b.params || b.segments.length - a.segments.length);
  const cfg = isObject(swagger['x-ibm-configuration']) ? swagger['x-ibm-configuration'] : {};
  const cors = !(isObject(cfg.cors) && cfg.cors.enabled === false);
  return { basePath: normalizeBasePath(swagger.basePath), routes, apiKey: apiKeyOf(swagger), rateLimit: rateLimitOf(swagger), cors };
}

/**
 * What an imported document must also satisfy, beyond what routing needs. wsk reads `info.title` and
 * `info.version` as strings and silently drops any other value (YAML's `version: 1.0` is a number), so
 * `wsk api get` would show a document other than the one stored. And an API needs an operation: one
 * with none routes nothing, `wsk api create` prints nothing for it and `wsk api list` never shows it.
 * Not part of compileApi, so documents stored before these checks keep serving.
 */
export function checkImport(swagger: Json, api: CompiledApi): void {
  const info = isObject(swagger.info) ? swagger.info : {};
  for (const f of ['title', 'version'] as const) {
    const v = info[f];
    if (v !== undefined && typeof v !== 'string') {
      throw new BadRequestError(`info.${f} must be a string, not the ${typeof v} ${JSON.stringify(v)} (in YAML, quote it: ${f}: "...").`);
    }
  }
  if (!api.routes.some((r) => Object.keys(r.operations).length > 0)) {
    throw new BadRequestError('The swagger has no operation: give at least one path a verb (get, post, ...) with its x-openwhisk action.');
  }
}

/**
 * Replaces `_` with the caller's namespace in every operation's x-openwhisk (namespace and url), and
 * gives an operation without an operationId OpenWhisk's (wsk refuses an answer that lacks one).
 */
export function resolveNamespaces(swagger: Json, ns: string): Json {
  const out = structuredClone(swagger);
  if (!isObject(out.paths)) return out;
  for (const [relPath, item] of Object.entries(out.paths)) {
    if (!isObject(item)) continue;
    for (const [verb, op] of Object.entries(item)) {
      if (!isObject(op) || !isObject(op['x-openwhisk'])) continue;
      if (typeof op.operationId !== 'string' || op.operationId === '') op.operationId = operationId(verb, relPath);
      const x = op['x-openwhisk'];
      if (x.namespace === '_') {
        x.namespace = ns;
        if (typeof x.url === 'string') x.url = x.url.replace(/\/api\/v1\/web\/_\//, `/api/v1/web/${ns}/`);
      }
    }
  }
  return out;
}

/** The route that serves `relPath`, and the values of its path parameters. */
export function matchRoute(api: CompiledApi, relPath: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
  const segs = relPath.split('/').slice(1);
  for (const route of api.routes) {
    if (route.segments.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segs.length; i++) {
      const pattern = route.segments[i]!;
      const name = PARAM_SEGMENT.exec(pattern)?.[1];
      if (name !== undefined) {
        if (segs[i] === '') {
          ok = false;
          break;
        }
        params[name] = segs[i]!;
      } else if (pattern !== segs[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return undefined;
}
