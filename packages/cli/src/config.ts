/**
 * wsk-compatible configuration: the `.wskprops` file (KEY=VALUE lines) plus environment and flags.
 * Precedence, highest first: command-line flag > WHIRL_* env > __OW_* env > properties file > default.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, UsageError } from './exit.js';

export type PropKey = 'APIHOST' | 'AUTH' | 'NAMESPACE' | 'APIVERSION' | 'CERT' | 'KEY' | 'APIGW_ACCESS_TOKEN' | 'APIGW_TENANT_ID';

export const PRECEDENCE_HELP = `Configuration (highest precedence first):
  1. flags:        --apihost, -u/--auth, --apiversion, -i/--insecure
  2. environment:  WHIRL_APIHOST, WHIRL_AUTH, WHIRL_NAMESPACE, then __OW_API_HOST, __OW_API_KEY, __OW_NAMESPACE
  3. file:         $WSK_CONFIG_FILE, or ~/.wskprops (wsk's format: APIHOST=..., AUTH=..., NAMESPACE=...)
An apihost without a scheme gets https:// (as wsk does); use http://127.0.0.1:3233 for a local standalone.`;

export function propsPath(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.WSK_CONFIG_FILE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return path.join(env.HOME ?? os.homedir(), '.wskprops');
}

/** Ordered lines so that a rewrite keeps comments, unknown keys and their order. */
export interface PropsFile {
  path: string;
  lines: string[];
}

export function readPropsFile(file: string): PropsFile {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new CliError(`Unable to read the properties file '${file}': ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { path: file, lines };
}

export function parseProps(lines: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of lines) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    m.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  return m;
}

/** Sets (value defined) or removes (undefined) keys in place, appending keys that were not there. */
export function updateProps(pf: PropsFile, changes: Partial<Record<PropKey, string | undefined>>): PropsFile {
  const pending = new Map(Object.entries(changes));
  const out: string[] = [];
  for (const line of pf.lines) {
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (key !== '' && pending.has(key)) {
      const v = pending.get(key);
      pending.delete(key);
      if (v !== undefined) out.push(`${key}=${v}`);
      continue;
    }
    out.push(line);
  }
  for (const [k, v] of pending) if (v !== undefined) out.push(`${k}=${v}`);
  return { path: pf.path, lines: out };
}

export function writePropsFile(pf: PropsFile): void {
  try {
    mkdirSync(path.dirname(pf.path), { recursive: true });
    // The file holds a credential: owner-only, like wsk.
    writeFileSync(pf.path, pf.lines.length ? `${pf.lines.join('\n')}\n` : '', { mode: 0o600 });
  } catch (e) {
    throw new CliError(`Unable to write the properties file '${pf.path}': ${(e as Error).message}`);
  }
}

export interface GlobalFlags {
  apihost?: string;
  auth?: string;
  apiversion?: string;
  insecure?: boolean;
  verbose?: boolean;
  debug?: boolean;
}

export type Source = 'flag' | 'env' | 'file' | 'default';

export interface Resolved<T> {
  value: T;
  source: Source;
  /** Which variable or flag, for `property get` and error hints. */
  from?: string;
}

export interface Config {
  propsFile: string;
  apihost: Resolved<string | undefined>;
  auth: Resolved<string | undefined>;
  namespace: Resolved<string>;
  apiversion: Resolved<string>;
  insecure: boolean;
  verbose: boolean;
  cert?: string;
  key?: string;
}

function pick(
  flag: string | undefined,
  flagName: string,
  env: NodeJS.ProcessEnv,
  envNames: string[],
  file: Map<string, string>,
  fileKey: string,
): Resolved<string | undefined> {
  if (flag !== undefined && flag !== '') return { value: flag, source: 'flag', from: flagName };
  for (const n of envNames) {
    const v = env[n];
    if (v !== undefined && v !== '') return { value: v, source: 'env', from: n };
  }
  const fv = file.get(fileKey);
  if (fv !== undefined && fv !== '') return { value: fv, source: 'file', from: fileKey };
  return { value: undefined, source: 'default' };
}

export function resolveConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv, fileProps?: Map<string, string>): Config {
  const file = propsPath(env);
  const props = fileProps ?? parseProps(readPropsFile(file).lines);
  const apihost = pick(flags.apihost, '--apihost', env, ['WHIRL_APIHOST', '__OW_API_HOST'], props, 'APIHOST');
  const auth = pick(flags.auth, '--auth', env, ['WHIRL_AUTH', '__OW_API_KEY'], props, 'AUTH');
  const ns = pick(undefined, '', env, ['WHIRL_NAMESPACE', '__OW_NAMESPACE'], props, 'NAMESPACE');
  const ver = pick(flags.apiversion, '--apiversion', env, [], props, 'APIVERSION');
  return {
    propsFile: file,
    apihost,
    auth,
    namespace: { ...ns, value: ns.value ?? '_' },
    apiversion: { ...ver, value: ver.value ?? 'v1' },
    insecure: flags.insecure === true,
    verbose: flags.verbose === true || flags.debug === true,
    cert: props.get('CERT'),
    key: props.get('KEY'),
  };
}

/** wsk's rule: a host without a scheme is https. Returns the origin plus any path prefix, no trailing slash. */
export function normalizeApiHost(host: string): string {
  let h = host.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(h)) h = `https://${h}`;
  let u: URL;
  try {
    u = new URL(h);
  } catch {
    throw new UsageError(`The apihost '${host}' is not a valid URL.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`The apihost '${host}' must use http or https.`);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}
