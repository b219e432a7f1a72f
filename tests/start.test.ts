/**
 * What a new user meets running `pnpm start` itself (not the test helper's direct node): the npm
 * habit `pnpm start -- --port N`, a clean stop on SIGTERM and on Ctrl-C at a terminal (exit 0, no
 * pnpm "Command failed"), and the no-Docker warning printed once on a terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/standalone.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  // The whole group, even when its leader has exited: a broken stop leaves node behind in it.
  for (const c of children.splice(0)) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'whirl-start-'));
  dirs.push(d);
  return d;
}

/** Spawns in its own process group (as a shell's foreground job), collecting stdout+stderr. */
function launch(cmd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(cmd, args, { cwd: repoRoot, detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WHIRL_LOG_LEVEL: 'warn', ...env } });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, test: () => boolean, output: () => string, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 120_000;
  while (!test()) {
    if (done) throw new Error(`exited before ${what}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('pnpm start', () => {
  it("accepts `pnpm start -- --port N` and stops with 0 on SIGTERM to pnpm", async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const p = launch('pnpm', ['start', '--', '--port', port, '--data-dir', dataDir(), '--containers', 'process'], { WHIRL_PREWARM: 'false' });
    await until('the APIHOST line', () => /APIHOST=http:\/\/127\.0\.0\.1:(\d+) /.test(p.output()), p.output, p.exited);
    expect(p.output()).toContain(`APIHOST=http://127.0.0.1:${port} `);
    expect(p.output()).not.toMatch(/Unexpected argument/);
    // The ready message says where the web console is, on the port asked for.
    await until('the console line', () => p.output().includes('/console in a browser'), p.output, p.exited);
    expect(p.output()).toContain(`open http://127.0.0.1:${port}/console in a browser`);
    p.child.kill('SIGTERM');
    expect(await p.exited, p.output()).toBe(0);
    expect(p.output()).toMatch(/SIGTERM: stopping/);
    expect(p.output()).not.toMatch(/Command failed|ELIFECYCLE/);
  });

  it('prints the no-Docker warning once on a terminal, and Ctrl-C there stops it with 0', async () => {
    // script(1) gives the process a real pseudo-terminal; ^C typed into it is the terminal's SIGINT
    // to the foreground process group (pnpm and node), as when a user presses Ctrl-C. script runs the
    // command through `$SHELL -c`; `exec` takes that shell out of the group, as an interactive shell is
    // out of its foreground job's. Without it, where SHELL is unset (CI), dash waits in the group, takes
    // the SIGINT too and re-raises it on itself once pnpm has exited 0: exit 130, from the shell.
    const cmd = `exec pnpm start -- --port 0 --data-dir ${dataDir()} --containers process`;
    const p = launch('script', ['-qefc', cmd, '/dev/null'], { WHIRL_PREWARM: 'false', TERM: 'dumb' });
    await until('the APIHOST line', () => p.output().includes('APIHOST='), p.output, p.exited);
    await until('the ready message', () => p.output().includes('pnpm whirl action list'), p.output, p.exited);
    expect(p.output().match(/NO ISOLATION/g) ?? []).toHaveLength(1);
    expect(p.output()).not.toMatch(/"level":40/);
    p.child.stdin!.write('\x03');
    expect(await p.exited, p.output()).toBe(0);
    expect(p.output()).toMatch(/SIGINT: stopping/);
    expect(p.output()).not.toMatch(/Command failed|ELIFECYCLE/);
  });
});
