/**
 * Starts a real standalone Whirl in a child process (as a user would, through its main) with a fresh
 * data directory, and stops it again. Tests talk to it over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningStandalone {
  apiHost: string;
  auth: string;
  namespace: string;
  dataDir: string;
  /** The `whirl.owner` label value of this server's containers. */
  owner: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, wait for exit; removes the data dir unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<number | null>;
}

export async function startStandalone(
  opts: { env?: Record<string, string>; args?: string[]; dataDir?: string; timeoutMs?: number } = {},
): Promise<RunningStandalone> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'whirl-e2e-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'packages/standalone/src/main.ts'), '--port', '0', '--data-dir', dataDir, ...(opts.args ?? [])],
    {
      cwd: repoRoot,
      env: { ...process.env, WHIRL_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`standalone did not start in time:\n${err}`)), opts.timeoutMs ?? 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^APIHOST=.*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`standalone exited with ${code}:\n${err}`));
    });
  });
  const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
  return {
    apiHost: fields.APIHOST!,
    auth: fields.AUTH!,
    namespace: fields.NAMESPACE!,
    dataDir,
    owner: `${readFileSync(path.join(dataDir, 'instance-id'), 'utf8').trim()}/invoker0`,
    child,
    stderr: () => err,
    stop: async ({ keepData = false } = {}) => {
      const exited = new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) resolve(child.exitCode);
        else child.once('exit', (code) => resolve(code));
      });
      child.kill('SIGTERM');
      const code = await exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Plain HTTP against the server, for the cases a client library hides (status codes, headers, raw bodies). */
export async function http(
  s: { apiHost: string; auth: string },
  method: string,
  urlPath: string,
  opts: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; auth?: string | null } = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? s.auth : opts.auth;
  if (auth !== null) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${s.apiHost}${urlPath}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
