/**
 * `whirl api create|get|list|delete`: wsk's API gateway commands, with its arguments, flags and
 * output (openwhisk-cli commands/api.go), over the `/whisk.system/apimgmt` web actions.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ApiDocRequest, ApiList, ApiSwagger, ApiXOpenWhisk } from '../../api/types.js';
import { annotationValue } from '../../api/types.js';
import { CliError, ExitCode, UsageError } from '../../exit.js';
import type { Factory } from '../../factory.js';
import { normalizeApiHost } from '../../config.js';
import { parseQName } from '../../names.js';
import { printJson, printOk } from '../../output.js';
import { addPageFlags, type PageFlags } from '../listing.js';
import { addJsonFlag, attempt, leaf, runsWith, type Deps } from '../shared.js';

const VERBS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const RESPONSE_TYPES = ['html', 'http', 'json', 'text', 'svg'];
const PARAM_SEGMENT = /^\{([^/]+)\}$/;

function checkVerb(verb: string): string {
  const v = verb.toUpperCase();
  if (!VERBS.includes(v)) throw new UsageError(`'${verb}' is not a valid API verb.  Valid values are: ${VERBS.join(', ')}`);
  return v;
}

function checkPath(p: string): string {
  if (!p.startsWith('/')) throw new UsageError(`'${p}' must begin with '/'.`);
  return p;
}

function pathParams(relPath: string): string[] {
  return [...new Set(relPath.split('/').map((s) => PARAM_SEGMENT.exec(s)?.[1]).filter((n): n is string => n !== undefined))];
}

/** The query wsk adds to every apimgmt call: its "space" is the key's uuid. */
function mgmtQuery(o: Deps): { spaceguid?: string } {
  const auth = o.config().auth.value;
  return auth !== undefined ? { spaceguid: auth.split(':')[0] } : {};
}

function operationsOf(swagger: ApiSwagger): { relPath: string; verb: string; x: ApiXOpenWhisk | undefined }[] {
  const out: { relPath: string; verb: string; x: ApiXOpenWhisk | undefined }[] = [];
  for (const [relPath, item] of Object.entries(swagger.paths ?? {})) {
    for (const [verb, op] of Object.entries(item)) {
      if (verb === 'parameters' || typeof op !== 'object' || op === null) continue;
      out.push({ relPath, verb, x: (op as { 'x-openwhisk'?: ApiXOpenWhisk })['x-openwhisk'] });
    }
  }
  return out;
}

function actionOf(x: ApiXOpenWhisk | undefined): string {
  if (!x) return '';
  return x.package !== undefined && x.package !== '' ? `/${x.namespace}/${x.package}/${x.action}` : `/${x.namespace}/${x.action}`;
}

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

// --- create

export interface ApiCreateOptions extends Deps {
  args: string[];
  apiname?: string;
  configFile?: string;
  responseType: string;
  json?: boolean;
}

export function makeApiCreateCommand(f: Factory, run = runApiCreate): Command {
  const cmd = leaf('create', 'create a new API')
    .usage('([BASE_PATH] API_PATH API_VERB ACTION] | --config-file CFG_FILE)')
    .argument('[args...]', 'BASE_PATH API_PATH API_VERB ACTION (BASE_PATH defaults to /)')
    .option('-n, --apiname <name>', 'friendly name of the API; ignored when CFG_FILE is specified (default BASE_PATH)')
    .option('-c, --config-file <file>', 'CFG_FILE containing API configuration in swagger JSON (or YAML) format')
    .option('--response-type <type>', 'set the web action response TYPE. Possible values are html, http, json, text, svg', 'json');
  return runsWith(addJsonFlag(cmd), f, run, ['args']);
}

function readSwaggerFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`Error reading swagger file '${file}': ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UsageError(`Error parsing swagger file '${file}': ${(e as Error).message}`);
  }
  const s = doc as ApiSwagger | null;
  if (typeof s !== 'object' || s === null || !s.basePath || !s.swagger || !s.info || !s.paths) {
    throw new UsageError('Unable to parse swagger file: Swagger file is invalid (missing basePath, info, paths, or swagger fields)');
  }
  if (!s.basePath.startsWith('/')) throw new UsageError('Unable to parse swagger file: Swagger file basePath must start with a leading slash (/)');
  return JSON.stringify(s);
}

export async function runApiCreate(o: ApiCreateOptions): Promise<void> {
  const cfg = o.config();
  const ns = cfg.namespace.value;
  let apidoc: ApiDocRequest;
  let fromFile = false;
  if (o.args.length === 0) {
    if (o.configFile === undefined) {
      throw new UsageError('Invalid argument(s). Specify a swagger file or specify an API base path with an API path, an API verb, and an action name.');
    }
    apidoc = { namespace: ns, swagger: readSwaggerFile(o.configFile) };
    fromFile = true;
  } else {
    if (o.args.length < 3 || o.args.length > 4) {
      throw new UsageError('Invalid argument(s). Specify a swagger file or specify an API base path with an API path, an API verb, and an action name.');
    }
    const [basePathArg, relPath, verbArg, actionArg] = o.args.length === 4 ? (o.args as [string, string, string, string]) : ['/', ...(o.args as [string, string, string])];
    const baseIsName = !basePathArg.startsWith('/');
    if (!baseIsName && pathParams(basePathArg).length > 0) {
      throw new UsageError(`The base path '${basePathArg}' cannot have parameters. Only the relative path supports path parameters.`);
    }
    checkPath(relPath);
    const params = pathParams(relPath);
    if (params.length > 0 && o.responseType !== 'http') throw new UsageError("A response type of 'http' is required when using path parameters.");
    if (!RESPONSE_TYPES.includes(o.responseType)) {
      throw new UsageError(`The response type '${o.responseType}' is not valid. Possible values are ${RESPONSE_TYPES.join(', ')}.`);
    }
    const verb = checkVerb(verbArg);
    if (baseIsName && o.apiname !== undefined) throw new UsageError('An API name can only be specified once.');
    const q = parseQName(actionArg, ns);
    const fq = `/${q.namespace}/${q.entity}`;
    // As wsk: the action must exist and be a web action before a route may point at it.
    const action = await attempt(`Unable to get action '${fq}'`, () => o.client().getAction(q.namespace, q.entity, false));
    const web = annotationValue(action.annotations, 'web-export');
    if (web !== true && web !== 'true') {
      throw new CliError(`Action '${fq}' is not a web action. Issue 'wsk action update "${fq}" --web true' to convert the action to a web action.`, ExitCode.error);
    }
    const secureKey = annotationValue(action.annotations, 'require-whisk-auth');
    const host = normalizeApiHost(cfg.apihost.value ?? '');
    apidoc = {
      namespace: ns,
      gatewayBasePath: basePathArg,
      gatewayPath: relPath,
      gatewayMethod: verb,
      ...(baseIsName ? {} : { id: `API:${ns}:${basePathArg}` }),
      ...(o.apiname !== undefined ? { apiName: o.apiname } : {}),
      ...(params.length > 0
        ? { pathParameters: params.map((name) => ({ name, in: 'path' as const, description: `Default description for '${name}'`, required: true, type: 'string' })) }
        : {}),
      action: {
        name: q.entity,
        namespace: q.namespace,
        backendMethod: verb,
        backendUrl: `${host}/api/v1/web/${q.namespace}/${q.pkg ?? 'default'}/${q.name}.http`,
        authkey: cfg.auth.value ?? '',
        ...(secureKey !== undefined && secureKey !== false ? { secureKey } : {}),
      },
    };
  }
  const res = await attempt('Unable to create API', () => o.client().createApi(apidoc, { ...mgmtQuery(o), responsetype: o.responseType }));
  if (o.json === true) return printJson(o.io, res);
  const base = trimSlash(res.gwApiUrl);
  if (!fromFile) {
    const path = `${trimSlash(apidoc.gatewayBasePath!)}${apidoc.gatewayPath!}`;
    printOk(o.io, `created API ${path} ${apidoc.gatewayMethod!} for action ${o.io.colors().bold(`/${apidoc.action!.namespace}/${apidoc.action!.name}`)}`);
    o.io.out.write(`${base}${apidoc.gatewayPath!}\n`);
    return;
  }
  const basePath = trimSlash(res.apidoc.basePath ?? '');
  for (const op of operationsOf(res.apidoc)) {
    const action = actionOf(op.x);
    printOk(o.io, `created API ${basePath}${op.relPath} ${op.verb}${action !== '' ? ` for action ${o.io.colors().bold(action)}` : ''}`);
    o.io.out.write(`${base}${op.relPath}\n`);
  }
}

// --- get

export interface ApiGetOptions extends Deps {
  api: string;
  full?: boolean;
  format: string;
  json?: boolean;
}

export function makeApiGetCommand(f: Factory, run = runApiGet): Command {
  const cmd = leaf('get', 'get API details')
    .argument('<api>', 'BASE_PATH or API_NAME')
    .option('-f, --full', 'display full API configuration details')
    .option('--format <type>', 'specify the API output TYPE, either json or yaml', 'json');
  return runsWith(addJsonFlag(cmd), f, run, ['api']);
}

export async function runApiGet(o: ApiGetOptions): Promise<void> {
  const format = o.format.toLowerCase();
  if (format !== 'json' && format !== 'yaml') throw new UsageError(`Invalid format type: ${o.format}`);
  const res = await attempt(`Unable to get API '${o.api}'`, () => o.client().getApis({ ...mgmtQuery(o), basepath: o.api }));
  if (o.json === true) return printJson(o.io, res);
  const value = res.apis[0]?.value;
  const shown: unknown = o.full === true ? value : value?.apidoc;
  if (shown === undefined) {
    throw new CliError(o.api.startsWith('/') ? `API does not exist for basepath ${o.api}` : `API does not exist for API name ${o.api}`, ExitCode.error);
  }
  if (format === 'yaml') {
    const { stringify } = await import('yaml');
    o.io.out.write(`${stringify(shown)}\n`);
  } else {
    printJson(o.io, shown);
  }
}

// --- delete

export interface ApiDeleteOptions extends Deps {
  api: string;
  path?: string;
  verb?: string;
  json?: boolean;
}

export function makeApiDeleteCommand(f: Factory, run = runApiDelete): Command {
  const cmd = leaf('delete', 'delete an API')
    .argument('<api>', 'BASE_PATH or API_NAME')
    .argument('[path]', 'API_PATH: delete only this path')
    .argument('[verb]', 'API_VERB: delete only this operation of the path');
  return runsWith(addJsonFlag(cmd), f, run, ['api', 'path', 'verb']);
}

export async function runApiDelete(o: ApiDeleteOptions): Promise<void> {
  if (o.path !== undefined) checkPath(o.path);
  const verb = o.verb !== undefined ? checkVerb(o.verb) : undefined;
  const res = await attempt('Unable to delete API', () =>
    o.client().deleteApi({ ...mgmtQuery(o), basepath: o.api, ...(o.path !== undefined ? { relpath: o.path } : {}), ...(verb !== undefined ? { operation: verb } : {}) }),
  );
  if (o.json === true) return printJson(o.io, res ?? {});
  if (o.path === undefined) printOk(o.io, `deleted API ${o.api}`);
  else if (verb === undefined) printOk(o.io, `deleted ${o.path} from ${o.api}`);
  else printOk(o.io, `deleted ${o.path} ${verb} from ${o.api}`);
}

// --- list

export interface ApiListOptions extends Deps, PageFlags {
  api?: string;
  path?: string;
  verb?: string;
  nameSort?: boolean;
  full?: boolean;
  json?: boolean;
}

export function makeApiListCommand(f: Factory, run = runApiList): Command {
  const cmd = addPageFlags(leaf('list', 'list APIs').argument('[api]', 'BASE_PATH or API_NAME').argument('[path]', 'API_PATH').argument('[verb]', 'API_VERB'), {
    limit: 'only return LIMIT number of APIs from the collection',
    skip: 'exclude the first SKIP number of APIs from the result',
    defaults: { limit: 30, skip: 0 },
  })
    .option('-n, --name-sort', 'sorts a list alphabetically by order of [BASE_PATH | API_NAME], API_PATH, then API_VERB')
    .option('-f, --full', 'display full description of each API');
  return runsWith(addJsonFlag(cmd), f, run, ['api', 'path', 'verb']);
}

interface Row {
  action: string;
  verb: string;
  apiName: string;
  basePath: string;
  relPath: string;
  url: string;
}

export function apiRows(list: ApiList, path?: string, verb?: string): Row[] {
  const rows: Row[] = [];
  for (const { value } of list.apis) {
    const base = trimSlash(value.gwApiUrl);
    for (const op of operationsOf(value.apidoc)) {
      if (path !== undefined && op.relPath !== path) continue;
      if (verb !== undefined && op.verb.toLowerCase() !== verb.toLowerCase()) continue;
      rows.push({
        action: actionOf(op.x),
        verb: op.verb,
        apiName: value.apidoc.info?.title ?? '',
        basePath: value.apidoc.basePath ?? '',
        relPath: op.relPath,
        url: `${base}${op.relPath}`,
      });
    }
  }
  return rows;
}

export async function runApiList(o: ApiListOptions): Promise<void> {
  if (o.path !== undefined) checkPath(o.path);
  const verb = o.verb !== undefined ? checkVerb(o.verb) : undefined;
  const query = o.api === undefined ? { limit: o.limit, skip: o.skip } : { basepath: o.api, ...(o.path !== undefined ? { relpath: o.path } : {}), ...(verb !== undefined ? { operation: verb } : {}) };
  const res = await attempt('Unable to obtain the API list', () => o.client().getApis({ ...mgmtQuery(o), ...query }));
  if (o.json === true) return printJson(o.io, res);
  const rows = apiRows(res, o.path, verb);
  if (o.nameSort === true) {
    const key = (r: Row): string => `${r.basePath}${r.relPath}${r.verb}`.toLowerCase();
    rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
  printOk(o.io, 'APIs');
  if (o.full === true) {
    // Three spaces, as wsk prints them (its row is the six lines joined with a space, each after the first indented by two).
    for (const r of rows) {
      o.io.out.write(`Action: ${r.action}\n   API Name: ${r.apiName}\n   Base path: ${r.basePath}\n   Path: ${r.relPath}\n   Verb: ${r.verb}\n   URL: ${r.url}\n`);
    }
    return;
  }
  // wsk's columns: action and API name padded to their longest value (capped at 40 and 30).
  const actionWidth = Math.min(40, Math.max('Action'.length, ...rows.map((r) => r.action.length)));
  const nameWidth = Math.min(30, Math.max('API Name'.length, ...rows.map((r) => r.apiName.length)));
  const line = (a: string, v: string, n: string, u: string): string => `${a.padEnd(actionWidth)} ${v.padStart(7)} ${n.padStart(nameWidth + 1)}  ${u}\n`;
  o.io.out.write(line('Action', 'Verb', 'API Name', 'URL'));
  for (const r of rows) o.io.out.write(line(r.action.slice(0, actionWidth), r.verb, r.apiName.slice(0, nameWidth), r.url));
}

export function makeApiCommand(f: Factory): Command {
  return new Command('api')
    .description('work with APIs')
    .addCommand(makeApiCreateCommand(f))
    .addCommand(makeApiGetCommand(f))
    .addCommand(makeApiDeleteCommand(f))
    .addCommand(makeApiListCommand(f));
}
