/**
 * The admin API client (`/admin/v1`, Bearer admin key) and where its settings come from. The admin key
 * is the operator's, so it lives in its own properties file, never in the tenant's wskprops:
 * flags (--apihost, --admin-key) > WHIRL_ADMIN_APIHOST / WHIRL_ADMIN_KEY > $WHIRL_ADMIN_CONFIG_FILE or
 * ~/.whirl-admin (APIHOST=..., ADMIN_KEY=...; standalone writes <data-dir>/adminprops in this shape).
 */
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { toApiError } from '../../api/client.js';
import { normalizeApiHost, parseProps, readPropsFile } from '../../config.js';
import { CliError, ExitCode } from '../../exit.js';

export const ADMIN_CONFIG_HELP = `Admin settings (highest precedence first):
  1. flags:        --apihost, --admin-key, -i/--insecure
  2. environment:  WHIRL_ADMIN_APIHOST, WHIRL_ADMIN_KEY
  3. file:         $WHIRL_ADMIN_CONFIG_FILE, or ~/.whirl-admin (APIHOST=..., ADMIN_KEY=...)
Standalone writes <data-dir>/adminprops in this format (its key is in <data-dir>/admin-key).`;

export interface AdminFlags {
  apihost?: string;
  adminKey?: string;
  insecure?: boolean;
  verbose?: boolean;
}

export function adminPropsPath(env: NodeJS.ProcessEnv): string {
  const fromEnv = env.WHIRL_ADMIN_CONFIG_FILE;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(env.HOME ?? os.homedir(), '.whirl-admin');
}

export class AdminClient {
  constructor(
    private readonly apihost: string,
    private readonly key: string,
    private readonly opts: { insecure: boolean; verbose: boolean; log: (l: string) => void },
  ) {}

  static fromSettings(flags: AdminFlags, env: NodeJS.ProcessEnv, log: (l: string) => void): AdminClient {
    const file = parseProps(readPropsFile(adminPropsPath(env)).lines);
    const apihost = flags.apihost ?? env.WHIRL_ADMIN_APIHOST ?? file.get('APIHOST');
    const key = flags.adminKey ?? env.WHIRL_ADMIN_KEY ?? file.get('ADMIN_KEY');
    if (apihost === undefined || apihost === '') {
      throw new CliError('The admin API host is not set.', ExitCode.error, `pass --apihost, set WHIRL_ADMIN_APIHOST, or put APIHOST=... in ${adminPropsPath(env)}`);
    }
    if (key === undefined || key === '') {
      throw new CliError('The admin key is not set.', ExitCode.error, `pass --admin-key, set WHIRL_ADMIN_KEY, or put ADMIN_KEY=... in ${adminPropsPath(env)}`);
    }
    return new AdminClient(normalizeApiHost(apihost), key, { insecure: flags.insecure === true, verbose: flags.verbose === true, log });
  }

  async call<T>(method: string, p: string, body?: unknown): Promise<T> {
    const u = new URL(`${this.apihost}/admin/v1${p}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.key}` };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (this.opts.verbose) this.opts.log(`REQUEST: [${method}]\t${u.toString()}${payload ? ` ${payload.toString('utf8')}` : ''}`);
    const lib = u.protocol === 'https:' ? https : http;
    const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const req = lib.request(u, { method, headers, timeout: 60_000, ...(u.protocol === 'https:' ? { rejectUnauthorized: !this.opts.insecure } : {}) }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, text: Buffer.concat(chunks).toString('utf8') }));
        r.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(payload);
    }).catch((e: unknown) => {
      throw new CliError(`Unable to reach the admin API at ${this.apihost}: ${(e as Error).message}`, ExitCode.error);
    });
    if (this.opts.verbose) this.opts.log(`RESPONSE: ${res.status} ${res.text}`);
    let parsed: unknown;
    try {
      parsed = res.text.trim() === '' ? undefined : JSON.parse(res.text);
    } catch {
      throw new CliError(`The server at ${this.apihost} answered HTTP ${res.status} with something that is not JSON.`, ExitCode.error);
    }
    if (res.status >= 200 && res.status < 300) return parsed as T;
    throw toApiError({ ...res, body: parsed });
  }
}
