/** Child processes and their memory, read from /proc. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scope } from './scope.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Resident set size in MB (VmRSS), or null when the process is gone. */
export function rssMB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples RSS every `everyMs` until stopped; returns the samples in MB. */
export function sampleRss(pid: number, everyMs = 200): { stop(): number[] } {
  const samples: number[] = [];
  const take = (): void => {
    const v = rssMB(pid);
    if (v !== null) samples.push(v);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/**
 * CPU time the whole machine spent busy so far (every process: Whirl's, docker-proxy, containerd's
 * shims, the containers, the kernel's network work), in ms, from /proc/stat; null off Linux.
 */
export function machineBusyMs(): number | null {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu  user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy.
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    // USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
    return busy * 10;
  } catch {
    return null;
  }
}

let tasksetChecked: boolean | undefined;
/** `taskset -c 1` when the tool exists and the machine has a second core; else nothing. */
export function pinPrefix(): string[] {
  tasksetChecked ??= spawnSync('taskset', ['-c', '1', 'true']).status === 0;
  return tasksetChecked ? ['taskset', '-c', '1'] : [];
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** The first stdout match of `ready`. */
  line: string;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns `argv` and waits for a stdout line matching `ready`. Registers the stop (SIGTERM, then
 * SIGKILL after `killAfterMs`) with `scope`.
 */
export async function spawnReady(
  scope: Scope,
  what: string,
  argv: string[],
  opts: { env?: Record<string, string>; ready: RegExp; timeoutMs?: number; killAfterMs?: number },
): Promise<Spawned> {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = scope.defer(`${what} (pid ${child.pid})`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((r) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, opts.killAfterMs ?? 30_000);
    });
    await Promise.race([exited, killed]);
    clearTimeout(timer);
    await exited;
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in time:\n${err.slice(-3000)}`)), opts.timeoutMs ?? 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = opts.ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${err.slice(-3000)}`));
    });
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  return { child, pid: child.pid!, line, stderr: () => err, stop: () => stop() };
}

/** Node with the tsx loader, as the project's own scripts run. */
export function tsxArgv(entry: string, nodeArgs: string[] = []): string[] {
  return [process.execPath, ...nodeArgs, '--import', 'tsx', path.join(repoRoot, entry)];
}
