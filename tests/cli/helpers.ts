/** Runs the real `whirl` CLI as a child process against a real standalone, with a private props file. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { repoRoot } from '../helpers/standalone.js';

export const cliMain = path.join(repoRoot, 'packages/cli/src/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  /** Props file the CLI reads and writes. */
  props: string;
  home: string;
  dir: string;
  run(args: string[], opts?: { env?: Record<string, string | undefined>; cwd?: string }): Promise<CliResult>;
  /** Runs with --json and parses stdout; fails the test on a non-zero exit. */
  json<T>(args: string[]): Promise<T>;
}

export function cliEnv(server?: { apiHost: string; auth: string }): CliEnv {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'whirl-cli-'));
  const props = path.join(dir, 'wskprops');
  if (server) writeFileSync(props, `APIHOST=${server.apiHost}\nAUTH=${server.auth}\n`);
  const baseEnv: Record<string, string | undefined> = { ...process.env, WSK_CONFIG_FILE: props, HOME: dir };
  // The test runner's own environment must not leak config into the CLI.
  for (const k of ['WHIRL_APIHOST', 'WHIRL_AUTH', 'WHIRL_NAMESPACE', '__OW_API_HOST', '__OW_API_KEY', '__OW_NAMESPACE', 'NO_COLOR']) delete baseEnv[k];
  const env: CliEnv = {
    props,
    home: dir,
    dir,
    run: (args, opts = {}) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', cliMain, ...args],
          { cwd: opts.cwd ?? repoRoot, env: { ...baseEnv, ...opts.env } as NodeJS.ProcessEnv, timeout: 90_000, maxBuffer: 32 * 1024 * 1024 },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      }),
    json: async <T>(args: string[]): Promise<T> => {
      const r = await env.run([...args, '--json']);
      expect(r.stderr, `whirl ${args.join(' ')} --json`).toBe('');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as T;
    },
  };
  return env;
}

/** A table row: run `args`, expect `code`, and optionally check output. */
export interface Case {
  name: string;
  args: string[] | (() => string[]);
  code?: number;
  stdout?: RegExp;
  stderr?: RegExp;
  json?: (v: unknown) => void;
}

export async function check(cli: CliEnv, c: Case): Promise<CliResult> {
  const args = typeof c.args === 'function' ? c.args() : c.args;
  const r = await cli.run(args);
  const where = `whirl ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.code, where).toBe(c.code ?? 0);
  if (c.stdout) expect(r.stdout, where).toMatch(c.stdout);
  if (c.stderr) expect(r.stderr, where).toMatch(c.stderr);
  // Never a stack trace, whatever went wrong.
  expect(r.stderr, where).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  if (c.json) c.json(JSON.parse(r.stdout));
  return r;
}
