/**
 * Clean stops, as a user causes them: Ctrl-C (SIGINT to the whole process group), SIGTERM, and the
 * launcher killed outright (SIGKILL), for `pnpm start` (standalone) and `pnpm start:distributed`.
 * After each, no process of the run is left (its process group, and the reaper, which lives in a
 * session of its own) and no container carrying the run's `whirl.owner` labels.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, waitFor } from '../helpers/standalone.js';
import { docker, dockerUp } from '../helpers/docker.js';


/**
 * Dev services of its own (ports and state apart from tests/distributed's and the fault suite's), so
 * that this file can run beside either. The ports sit below Linux's ephemeral range (32768-60999):
 * one in it can be taken at any moment by an outgoing connection or a container's published port, and
 * then nginx cannot bind it (a CI run met 38080 taken).
 */
const STOP_ENV: Record<string, string> = {
  KAFKA_PORT: '26092',
  KAFKA_CONTROLLER_PORT: '26093',
  COUCHDB_PORT: '26984',
  NGINX_HTTP_PORT: '26080',
  NGINX_HTTPS_PORT: '26443',
  WHIRL_DEV_STATE: path.join(repoRoot, '.tmp', 'stops'),
};

interface Run {
  child: ChildProcess;
  apiHost: string;
  auth: string;
  /** Text that appears in the command line of this run's reaper. */
  reaperMark: string;
  owners: RegExp;
  /** Dev services' state directory: their processes (nginx daemonizes out of the group) name it. */
  stateDir?: string;
}

const runs: Run[] = [];

/** Starts `cmd` in a process group of its own (as a terminal would) and waits for its APIHOST line. */
async function launch(cmd: string, args: string[], env: Record<string, string>, reaperMark: string, owners: RegExp): Promise<Run> {
  const child = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, WHIRL_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start in time:\n${err.slice(-4000)}`)), 300_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /APIHOST=\S+ AUTH=\S+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}:\n${err.slice(-4000)}`));
    });
  });
  const f = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
  const run = { child, apiHost: f.APIHOST!, auth: f.AUTH!, reaperMark, owners };
  runs.push(run);
  return run;
}

function processesOf(run: Run): string[] {
  const lines = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim() && !/\bps -eo\b/.test(l))
    .map((l) => ({ l, pgid: Number(l.trim().split(/\s+/)[1]) }));
  const mine = (l: string, pgid: number): boolean =>
    pgid === run.child.pid || l.includes(run.reaperMark) || (run.stateDir !== undefined && l.includes(run.stateDir));
  // Whole groups of what matched: nginx's workers do not name the state directory, their master does.
  const groups = new Set(lines.filter((x) => mine(x.l, x.pgid)).map((x) => x.pgid));
  return lines.filter((x) => groups.has(x.pgid)).map((x) => x.l);
}

async function containersOf(run: Run): Promise<string[]> {
  const list = await docker.listContainers({ all: true });
  return list.filter((c) => run.owners.test(c.Labels['whirl.owner'] ?? '')).map((c) => c.Names[0] ?? c.Id);
}

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

/** One activation, so that there are action containers (besides stem cells) to leave behind. */
async function invokeOnce(run: Run): Promise<void> {
  const headers = { authorization: `Basic ${Buffer.from(run.auth).toString('base64')}`, 'content-type': 'application/json' };
  // The distributed tier's nginx has a self-signed certificate.
  const call = (path: string, init: RequestInit): Promise<Response> =>
    fetch(`${run.apiHost}${path}`, { ...init, headers, ...(run.apiHost.startsWith('https:') ? { dispatcher: insecure } : {}) } as RequestInit);
  const put = await call('/api/v1/namespaces/_/actions/stopme?overwrite=true', {
    method: 'PUT',
    body: JSON.stringify({ exec: { kind: 'nodejs:20', code: 'function main() { return { up: true }; }' } }),
  });
  expect(put.status).toBe(200);
  await waitFor(
    'an invocation to succeed',
    async () => ((await call('/api/v1/namespaces/_/actions/stopme?blocking=true&result=true', { method: 'POST', body: '{}' })).status === 200 ? true : undefined),
    120_000,
  );
}

async function expectNothingLeft(run: Run): Promise<void> {
  await waitFor('every process of the run to end', async () => (processesOf(run).length === 0 ? true : undefined), 150_000).catch(() => {
    throw new Error(`processes left:\n${processesOf(run).join('\n')}`);
  });
  expect(await containersOf(run)).toEqual([]);
}

afterAll(async () => {
  // Whatever a failed test left: this run's own dev services, processes and containers only.
  if (runs.some((r) => r.stateDir)) {
    for (const svc of ['nginx', 'couchdb', 'kafka']) {
      try {
        execFileSync('bash', [path.join(repoRoot, 'deploy/dev', `${svc}.sh`), 'stop'], { env: { ...process.env, ...STOP_ENV }, timeout: 60_000 });
      } catch {
        // not running
      }
    }
  }
  for (const run of runs) {
    for (const l of processesOf(run)) {
      try {
        process.kill(Number(l.trim().split(/\s+/)[0]), 'SIGKILL');
      } catch {
        // gone
      }
    }
    const list = await docker.listContainers({ all: true });
    for (const c of list.filter((c) => run.owners.test(c.Labels['whirl.owner'] ?? ''))) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
}, 120_000);

// Each case starts a whole deployment (a distributed one takes a minute or more on a loaded machine).
describe.skipIf(!dockerUp)('standalone stops clean', { timeout: 400_000 }, () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const start = async (viaPnpm: boolean): Promise<Run> => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'whirl-stop-'));
    dirs.push(dataDir);
    const args = ['--port', '0', '--data-dir', dataDir, '--containers', 'docker'];
    const run = viaPnpm
      ? await launch('pnpm', ['start', ...args], {}, path.join(dataDir, 'reaper.json'), /^$/)
      : await launch(process.execPath, ['--import', 'tsx', 'packages/standalone/src/main.ts', ...args], {}, path.join(dataDir, 'reaper.json'), /^$/);
    const owner = `${readFileSync(path.join(dataDir, 'instance-id'), 'utf8').trim()}/invoker0`;
    run.owners = new RegExp(`^${owner.replace(/[/]/g, '\\/')}$`);
    await invokeOnce(run);
    expect((await containersOf(run)).length).toBeGreaterThan(0);
    return run;
  };

  it('Ctrl-C of `pnpm start` (SIGINT to the process group)', async () => {
    const run = await start(true);
    process.kill(-run.child.pid!, 'SIGINT');
    await expectNothingLeft(run);
  });

  it('SIGTERM', async () => {
    const run = await start(false);
    run.child.kill('SIGTERM');
    await expectNothingLeft(run);
  });

  it('SIGKILL: the reaper removes the containers', async () => {
    const run = await start(false);
    run.child.kill('SIGKILL');
    await expectNothingLeft(run);
  });
});

describe.skipIf(!dockerUp)('`pnpm start:distributed` stops clean', { timeout: 400_000 }, () => {
  // Ctrl-C goes to `pnpm start:distributed` as a terminal sends it; SIGTERM and SIGKILL go to the
  // launcher process itself (pnpm does not pass signals on to the script it runs).
  const start = async (viaPnpm: boolean): Promise<Run> => {
    const prefix = `f${randomBytes(3).toString('hex')}_`;
    const [cmd, args] = viaPnpm ? ['pnpm', ['start:distributed']] : [process.execPath, ['--import', 'tsx', 'deploy/dev/distributed.ts']];
    const run = await launch(cmd, args, { ...STOP_ENV, WHIRL_DEV_PREFIX: prefix }, path.join(STOP_ENV.WHIRL_DEV_STATE!, 'distributed', 'reaper-'), new RegExp(`^${prefix}invoker\\d+$`));
    run.stateDir = STOP_ENV.WHIRL_DEV_STATE;
    await invokeOnce(run);
    expect((await containersOf(run)).length).toBeGreaterThan(0);
    return run;
  };

  it('Ctrl-C (SIGINT to the process group)', async () => {
    const run = await start(true);
    process.kill(-run.child.pid!, 'SIGINT');
    await expectNothingLeft(run);
  });

  it('SIGTERM to the launcher', async () => {
    const run = await start(false);
    run.child.kill('SIGTERM');
    await expectNothingLeft(run);
  });

  it('SIGKILL of the launcher: the reaper stops the rest', async () => {
    const run = await start(false);
    run.child.kill('SIGKILL');
    await expectNothingLeft(run);
  });
});
