/**
 * The console's only way to the platform: OpenWhisk's REST API at /api/v1 on the origin that served
 * the page, with the namespace key as Basic auth. The key lives in sessionStorage, so it is gone when
 * the tab closes and is never sent anywhere but here.
 */

export interface KeyValue {
  key: string;
  value: unknown;
}

export interface Action {
  name: string;
  namespace: string;
  version: string;
  publish?: boolean;
  exec: { kind: string; code?: string; binary?: boolean; main?: string; image?: string; components?: string[] };
  limits?: { timeout?: number; memory?: number; logs?: number; concurrency?: number };
  parameters?: KeyValue[];
  annotations?: KeyValue[];
}

export interface Activation {
  activationId: string;
  name: string;
  namespace: string;
  version?: string;
  start: number;
  end?: number;
  duration?: number;
  statusCode?: number;
  subject?: string;
  cause?: string;
  logs?: string[];
  annotations?: KeyValue[];
  response?: { status: string; statusCode?: number; success: boolean; result?: unknown };
}

export interface Trigger {
  name: string;
  namespace: string;
  version?: string;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  rules?: Record<string, { action: { name: string; path: string }; status: string }>;
}

export interface Rule {
  name: string;
  namespace: string;
  version?: string;
  status?: string;
  trigger: { name: string; path: string } | string;
  action: { name: string; path: string } | string;
}

export interface Package {
  name: string;
  namespace: string;
  version?: string;
  publish?: boolean;
  binding?: { namespace?: string; name?: string } | Record<string, never>;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  actions?: { name: string; version?: string; annotations?: KeyValue[] }[];
}

export interface Session {
  auth: string;
  namespace: string;
}

const STORAGE_KEY = 'whirl.console.session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.auth === 'string' && typeof s.namespace === 'string' ? { auth: s.auth, namespace: s.namespace } : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session | undefined): void {
  if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  else {
    sessionStorage.removeItem(STORAGE_KEY);
    // Signing out forgets every credential the tab holds.
    sessionStorage.removeItem(METRICS_TOKEN_KEY);
  }
}

const METRICS_TOKEN_KEY = 'whirl.console.metricsToken';

/** The operator's WHIRL_METRICS_TOKEN, if they gave one; tab-scoped like the key. */
export function loadMetricsToken(): string | undefined {
  return sessionStorage.getItem(METRICS_TOKEN_KEY) ?? undefined;
}

export function saveMetricsToken(token: string | undefined): void {
  if (token) sessionStorage.setItem(METRICS_TOKEN_KEY, token);
  else sessionStorage.removeItem(METRICS_TOKEN_KEY);
}

export type MetricsScrape = { ok: true; text: string } | { ok: false; status: number; error: string };

/**
 * GET /metrics with the metrics token as a bearer token and nothing else: the namespace key is never
 * sent there (it is not what the endpoint checks, and a scrape is not an API call).
 */
export async function scrapeMetrics(token: string | undefined): Promise<MetricsScrape> {
  const headers: Record<string, string> = { accept: 'text/plain' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch('/metrics', { headers, credentials: 'omit' });
  const text = await res.text();
  if (res.ok) return { ok: true, text };
  let error = `The metrics endpoint answered ${res.status}.`;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') error = body.error;
  } catch {
    // not JSON; keep the sentence above
  }
  return { ok: false, status: res.status, error };
}

/** Raw request; returns status and parsed body without throwing on 4xx/5xx. */
export async function request(auth: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth) headers.authorization = `Basic ${btoa(auth)}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  // credentials 'omit': a 401 with WWW-Authenticate then comes back to us instead of opening the
  // browser's own password prompt (the key goes in the Authorization header we set).
  const res = await fetch(path, { method, headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, body: parsed };
}

function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object' && 'error' in e) return String((e as { error: unknown }).error);
  }
  return `The server answered ${status}.`;
}

export const enc = (name: string): string => name.split('/').map(encodeURIComponent).join('/');

export class Api {
  constructor(readonly session: Session) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, body: parsed } = await request(this.session.auth, method, path, body);
    if (status >= 400) throw new ApiError(status, errorMessage(status, parsed), parsed);
    return parsed as T;
  }

  ns(path: string, namespace = '_'): string {
    return `/api/v1/namespaces/${encodeURIComponent(namespace)}/${path}`;
  }

  listActions = () => this.call<Action[]>('GET', this.ns('actions?limit=200'));
  getAction = (name: string) => this.call<Action>('GET', this.ns(`actions/${enc(name)}`));
  putAction = (name: string, body: unknown, overwrite: boolean) => this.call<Action>('PUT', this.ns(`actions/${enc(name)}?overwrite=${overwrite}`), body);
  deleteAction = (name: string) => this.call<Action>('DELETE', this.ns(`actions/${enc(name)}`));

  /** A blocking invoke: an activation (also for 502 application errors) or, past the wait, an id. */
  async invoke(name: string, params: unknown): Promise<{ status: number; body: unknown; ms: number }> {
    const t0 = performance.now();
    const { status, body } = await request(this.session.auth, 'POST', this.ns(`actions/${enc(name)}?blocking=true`), params);
    const ms = Math.round(performance.now() - t0);
    const isActivation = body && typeof body === 'object' && 'activationId' in body;
    if (status >= 400 && !isActivation) throw new ApiError(status, errorMessage(status, body), body);
    return { status, body, ms };
  }

  listActivations(opts: { name?: string; limit?: number; skip?: number; docs?: boolean; since?: number } = {}): Promise<Activation[]> {
    const q = new URLSearchParams({ limit: String(opts.limit ?? 50), docs: String(opts.docs ?? true) });
    if (opts.skip) q.set('skip', String(opts.skip));
    if (opts.name) q.set('name', opts.name);
    if (opts.since) q.set('since', String(opts.since));
    return this.call<Activation[]>('GET', this.ns(`activations?${q.toString()}`));
  }
  getActivation = (id: string) => this.call<Activation>('GET', this.ns(`activations/${encodeURIComponent(id)}`));

  listTriggers = () => this.call<Trigger[]>('GET', this.ns('triggers?limit=200'));
  getTrigger = (name: string) => this.call<Trigger>('GET', this.ns(`triggers/${enc(name)}`));
  putTrigger = (name: string, body: unknown) => this.call<Trigger>('PUT', this.ns(`triggers/${enc(name)}`), body);
  deleteTrigger = (name: string) => this.call<Trigger>('DELETE', this.ns(`triggers/${enc(name)}`));
  fireTrigger = (name: string, params: unknown) => this.call<{ activationId?: string }>('POST', this.ns(`triggers/${enc(name)}`), params);

  listRules = () => this.call<Rule[]>('GET', this.ns('rules?limit=200'));
  getRule = (name: string) => this.call<Rule>('GET', this.ns(`rules/${enc(name)}`));
  putRule = (name: string, body: unknown) => this.call<Rule>('PUT', this.ns(`rules/${enc(name)}`), body);
  setRuleStatus = (name: string, status: 'active' | 'inactive') => this.call<unknown>('POST', this.ns(`rules/${enc(name)}`), { status });
  deleteRule = (name: string) => this.call<Rule>('DELETE', this.ns(`rules/${enc(name)}`));

  listPackages = (namespace = '_') => this.call<Package[]>('GET', this.ns(`packages?limit=200${namespace === '_' ? '' : '&public=true'}`, namespace));
  getPackage = (name: string, namespace = '_') => this.call<Package>('GET', this.ns(`packages/${enc(name)}`, namespace));
  putPackage = (name: string, body: unknown) => this.call<Package>('PUT', this.ns(`packages/${enc(name)}`), body);
  deletePackage = (name: string) => this.call<Package>('DELETE', this.ns(`packages/${enc(name)}`));

  invokers = () => this.call<Record<string, string>>('GET', '/invokers');
}

export const annotation = (annotations: KeyValue[] | undefined, key: string): unknown => annotations?.find((a) => a.key === key)?.value;

export { findActivations, STATUS_NAMES, statusCodeOf, statusName, type FoundActivations } from './activation.js';

/** Cold starts carry an initTime annotation (OpenWhisk's marker); warm ones do not. */
export function isCold(a: Activation): boolean {
  return annotation(a.annotations, 'initTime') !== undefined;
}

/** `{"a":1}` in a JSON field, or a sentence that says what to fix. */
export function parseJsonObject(text: string, what: string): { value: Record<string, unknown> } | { error: string } {
  if (text.trim() === '') return { value: {} };
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: `${what} must be a JSON object, like {"name": "you"}.` };
    return { value: v as Record<string, unknown> };
  } catch (e) {
    return { error: `${what} is not valid JSON: ${(e as Error).message}` };
  }
}

export const toKeyValues = (o: Record<string, unknown>): KeyValue[] => Object.entries(o).map(([key, value]) => ({ key, value }));
export const fromKeyValues = (kvs: KeyValue[] | undefined): Record<string, unknown> => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, kv.value]));
export const entityPath = (e: { name: string; path: string } | string): string => (typeof e === 'string' ? e : `${e.path}/${e.name}`);
