/**
 * Typed REST client for the OpenWhisk API (node:http/https, no fetch: `--insecure` needs a per-request
 * agent that accepts self-signed certificates, which fetch cannot take without an extra dependency).
 */
import http from 'node:http';
import https from 'node:https';
import { ExitCode, CliError, exitCodeForStatus } from '../exit.js';
import type {
  Action,
  ActionPut,
  ActionUsage,
  Activation,
  Usage,
  ActivationResponse,
  ApiDocRequest,
  ApiInfo,
  ApiList,
  ApiMgmtQuery,
  ApiValue,
  Package,
  PackagePut,
  Rule,
  RulePut,
  Trigger,
  TriggerPut,
} from './types.js';

/** The platform's `{error, code}` answer to a request. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly serverMessage: string,
    readonly code: string | undefined,
    readonly body: unknown,
  ) {
    super(code !== undefined ? `${serverMessage} (code ${code})` : serverMessage);
  }
  get exitCode(): number {
    return exitCodeForStatus(this.status);
  }
}

export interface ClientOptions {
  apihost: string;
  auth: string | undefined;
  namespace: string;
  apiversion: string;
  insecure: boolean;
  verbose: boolean;
  userAgent: string;
  /** Where -v writes requests and responses. */
  log: (line: string) => void;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export type Query = Record<string, string | number | boolean | undefined>;

const TRUNCATE = 1000;

function truncate(s: string): string {
  return s.length > TRUNCATE ? `${s.slice(0, TRUNCATE)}... (truncated, ${s.length} bytes)` : s;
}

export function entityPath(name: string): string {
  return name
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

export class WhiskClient {
  constructor(readonly opts: ClientOptions) {}

  get namespace(): string {
    return this.opts.namespace;
  }

  private url(p: string, query?: Query): URL {
    const u = new URL(`${this.opts.apihost}/api/${this.opts.apiversion}${p}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** Sends one request; throws only for transport failures and for replies that are not JSON. */
  async raw(method: string, p: string, o: { query?: Query; body?: unknown; auth?: boolean } = {}): Promise<RawResponse> {
    const u = this.url(p, o.query);
    const needsAuth = o.auth !== false;
    if (needsAuth && (this.opts.auth === undefined || this.opts.auth === '')) {
      throw new CliError(
        'The API authentication key is not set.',
        ExitCode.error,
        "run 'whirl property set --auth <uuid:key>', pass -u/--auth, or set WHIRL_AUTH",
      );
    }
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, accept: 'application/json' };
    if (needsAuth) headers.authorization = `Basic ${Buffer.from(this.opts.auth!).toString('base64')}`;
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (this.opts.verbose) {
      this.opts.log(`REQUEST: [${method}]\t${u.toString()}`);
      this.opts.log(`Req Headers: ${JSON.stringify({ ...headers, ...(needsAuth ? { authorization: 'Basic ***' } : {}) })}`);
      if (payload) this.opts.log(`Req Body: ${truncate(payload.toString('utf8'))}`);
    }
    const lib = u.protocol === 'https:' ? https : http;
    const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const req = lib.request(
        u,
        {
          method,
          headers,
          timeout: this.opts.timeoutMs ?? 120_000,
          ...(u.protocol === 'https:' ? { rejectUnauthorized: !this.opts.insecure } : {}),
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (d: Buffer) => chunks.push(d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, text: Buffer.concat(chunks).toString('utf8') }));
          r.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    }).catch((e: unknown) => {
      throw this.transportError(e);
    });
    if (this.opts.verbose) {
      this.opts.log(`RESPONSE: Got response with code ${res.status}`);
      this.opts.log(`Resp Body received: ${truncate(res.text)}`);
    }
    let body: unknown;
    if (res.text.trim() !== '') {
      try {
        body = JSON.parse(res.text);
      } catch {
        const ct = String(res.headers['content-type'] ?? 'unknown content type');
        throw new CliError(
          `The server at ${this.opts.apihost} answered HTTP ${res.status} with ${ct.split(';')[0]}, not JSON.`,
          ExitCode.error,
          'check that the apihost points at a Whirl/OpenWhisk API (whirl property get --apihost)',
        );
      }
    }
    return { ...res, body };
  }

  private transportError(e: unknown): CliError {
    const err = e as NodeJS.ErrnoException;
    const code = err.code ?? '';
    const host = this.opts.apihost;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
      return new CliError(
        `Unable to reach the apihost ${host}: ${code}.`,
        ExitCode.error,
        "is the server running? Check 'whirl property get --apihost' (a local standalone is http://127.0.0.1:3233)",
      );
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
      return new CliError(`TLS certificate of ${host} was rejected: ${err.message}.`, ExitCode.error, 'use -i/--insecure for a self-signed certificate');
    }
    if (code === 'EPROTO' || /wrong version number/i.test(err.message)) {
      return new CliError(`TLS handshake with ${host} failed.`, ExitCode.error, 'the server may speak plain http: set the apihost to http://...');
    }
    if (code === 'ECONNRESET' || code === 'ETIMEDOUT' || /socket hang up/.test(err.message)) {
      return new CliError(`The connection to ${host} failed, or timed out (${err.message}).`, ExitCode.error);
    }
    return new CliError(`Request to ${host} failed: ${err.message}`, ExitCode.error);
  }

  /** Like raw, but a non-2xx reply becomes an ApiError. */
  async call<T>(method: string, p: string, o: { query?: Query; body?: unknown; auth?: boolean } = {}): Promise<T> {
    const r = await this.raw(method, p, o);
    if (r.status >= 200 && r.status < 300) return r.body as T;
    throw toApiError(r);
  }

  private ns(ns?: string): string {
    return `/namespaces/${encodeURIComponent(ns ?? this.opts.namespace)}`;
  }

  // --- service
  info(): Promise<ApiInfo> {
    return this.call<ApiInfo>('GET', '', { auth: false });
  }
  namespaces(): Promise<string[]> {
    return this.call<string[]>('GET', '/namespaces');
  }

  // --- actions
  listActions(ns: string, pkg?: string, q: Query = {}): Promise<Action[]> {
    const p = pkg === undefined ? '/actions' : `/actions/${encodeURIComponent(pkg)}/`;
    return this.call<Action[]>('GET', `${this.ns(ns)}${p}`, { query: { limit: 30, skip: 0, ...q } });
  }
  getAction(ns: string, name: string, code = true): Promise<Action> {
    return this.call<Action>('GET', `${this.ns(ns)}/actions/${entityPath(name)}`, { query: { code } });
  }
  /** Whirl's usage summary of an action over its recent activations (`?usage=true`). */
  actionUsage(ns: string, name: string, last?: number): Promise<ActionUsage> {
    return this.call<ActionUsage>('GET', `${this.ns(ns)}/actions/${entityPath(name)}`, { query: { usage: true, ...(last !== undefined ? { last } : {}) } });
  }
  putAction(ns: string, name: string, body: ActionPut, overwrite: boolean): Promise<Action> {
    return this.call<Action>('PUT', `${this.ns(ns)}/actions/${entityPath(name)}`, { query: { overwrite }, body });
  }
  deleteAction(ns: string, name: string): Promise<Action> {
    return this.call<Action>('DELETE', `${this.ns(ns)}/actions/${entityPath(name)}`);
  }
  /** Returns the raw reply: 200/202/502 all carry meaning for the caller. */
  invokeAction(ns: string, name: string, params: Record<string, unknown>, q: { blocking: boolean; result: boolean; timeout?: number }): Promise<RawResponse> {
    return this.raw('POST', `${this.ns(ns)}/actions/${entityPath(name)}`, { query: q, body: params });
  }

  usage(ns: string, q: { since?: number; upto?: number }): Promise<Usage> {
    return this.call<Usage>('GET', `${this.ns(ns)}/usage`, { query: q });
  }

  // --- activations
  listActivations(ns: string, q: Query): Promise<Activation[]> {
    return this.call<Activation[]>('GET', `${this.ns(ns)}/activations`, { query: q });
  }
  getActivation(ns: string, id: string): Promise<Activation> {
    return this.call<Activation>('GET', `${this.ns(ns)}/activations/${encodeURIComponent(id)}`);
  }
  activationLogs(ns: string, id: string): Promise<{ logs: string[] }> {
    return this.call<{ logs: string[] }>('GET', `${this.ns(ns)}/activations/${encodeURIComponent(id)}/logs`);
  }
  activationResult(ns: string, id: string): Promise<ActivationResponse> {
    return this.call<ActivationResponse>('GET', `${this.ns(ns)}/activations/${encodeURIComponent(id)}/result`);
  }

  // --- packages
  listPackages(ns: string, q: Query = {}): Promise<Package[]> {
    return this.call<Package[]>('GET', `${this.ns(ns)}/packages`, { query: { limit: 30, skip: 0, ...q } });
  }
  getPackage(ns: string, name: string): Promise<Package> {
    return this.call<Package>('GET', `${this.ns(ns)}/packages/${encodeURIComponent(name)}`);
  }
  putPackage(ns: string, name: string, body: PackagePut, overwrite: boolean): Promise<Package> {
    return this.call<Package>('PUT', `${this.ns(ns)}/packages/${encodeURIComponent(name)}`, { query: { overwrite }, body });
  }
  deletePackage(ns: string, name: string, force?: boolean): Promise<Package> {
    return this.call<Package>('DELETE', `${this.ns(ns)}/packages/${encodeURIComponent(name)}`, { query: { force } });
  }

  // --- triggers
  listTriggers(ns: string, q: Query = {}): Promise<Trigger[]> {
    return this.call<Trigger[]>('GET', `${this.ns(ns)}/triggers`, { query: { limit: 30, skip: 0, ...q } });
  }
  getTrigger(ns: string, name: string): Promise<Trigger> {
    return this.call<Trigger>('GET', `${this.ns(ns)}/triggers/${encodeURIComponent(name)}`);
  }
  putTrigger(ns: string, name: string, body: TriggerPut, overwrite: boolean): Promise<Trigger> {
    return this.call<Trigger>('PUT', `${this.ns(ns)}/triggers/${encodeURIComponent(name)}`, { query: { overwrite }, body });
  }
  deleteTrigger(ns: string, name: string): Promise<Trigger> {
    return this.call<Trigger>('DELETE', `${this.ns(ns)}/triggers/${encodeURIComponent(name)}`);
  }
  /** 202 with an activation id, or 204 (no active rule) with none. */
  async fireTrigger(ns: string, name: string, params: Record<string, unknown>): Promise<string | undefined> {
    const body = await this.call<{ activationId?: string } | undefined>('POST', `${this.ns(ns)}/triggers/${encodeURIComponent(name)}`, { body: params });
    return body?.activationId;
  }

  // --- rules
  listRules(ns: string, q: Query = {}): Promise<Rule[]> {
    return this.call<Rule[]>('GET', `${this.ns(ns)}/rules`, { query: { limit: 30, skip: 0, ...q } });
  }
  getRule(ns: string, name: string): Promise<Rule> {
    return this.call<Rule>('GET', `${this.ns(ns)}/rules/${encodeURIComponent(name)}`);
  }
  putRule(ns: string, name: string, body: RulePut, overwrite: boolean): Promise<Rule> {
    return this.call<Rule>('PUT', `${this.ns(ns)}/rules/${encodeURIComponent(name)}`, { query: { overwrite }, body });
  }
  setRuleState(ns: string, name: string, status: 'active' | 'inactive'): Promise<unknown> {
    return this.call<unknown>('POST', `${this.ns(ns)}/rules/${encodeURIComponent(name)}`, { body: { status, trigger: null, action: null } });
  }
  deleteRule(ns: string, name: string): Promise<Rule> {
    return this.call<Rule>('DELETE', `${this.ns(ns)}/rules/${encodeURIComponent(name)}`);
  }

  // --- API gateway: the route management web actions, as wsk calls them
  createApi(apidoc: ApiDocRequest, q: ApiMgmtQuery & { responsetype?: string }): Promise<ApiValue> {
    return this.call<ApiValue>('POST', '/web/whisk.system/apimgmt/createApi.http', { query: q, body: { apidoc } });
  }
  getApis(q: ApiMgmtQuery & { basepath?: string; relpath?: string; operation?: string; limit?: number; skip?: number }): Promise<ApiList> {
    return this.call<ApiList>('GET', '/web/whisk.system/apimgmt/getApi.http', { query: q });
  }
  deleteApi(q: ApiMgmtQuery & { basepath: string; relpath?: string; operation?: string }): Promise<unknown> {
    return this.call<unknown>('DELETE', '/web/whisk.system/apimgmt/deleteApi.http', { query: { ...q, force: true } });
  }
}

export function toApiError(r: RawResponse): ApiError {
  const b = r.body as { error?: unknown; code?: unknown } | undefined;
  if (b && typeof b === 'object' && b.error !== undefined && b.error !== null) {
    const msg = typeof b.error === 'string' ? b.error : JSON.stringify(b.error);
    const code = b.code === undefined || b.code === null ? undefined : String(b.code);
    return new ApiError(r.status, msg, code, r.body);
  }
  return new ApiError(r.status, `The server answered HTTP ${r.status}${r.text ? `: ${truncate(r.text)}` : ' with no body'}`, undefined, r.body);
}
