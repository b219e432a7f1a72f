/**
 * ContainerFactory that runs action proxies as local child processes (the embedded adapter, for
 * machines without Docker). It is NOT a sandbox: user code runs with the invoker's user id and full
 * access to the host, hence `isolated = false`.
 *
 * The same seam as the Docker factory's /whirl directory: each process whose image can (manifest
 * `capabilities`) gets a directory of its own in `stateDir`, serves on a Unix socket there besides
 * its port (`socketPath`) and, with `logFiles`, writes activation logs to files there
 * (`readActivationLogs`). The directory goes with the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CollectedLogs, Container, ContainerFactory, ContainerSpec, LogLimits, LogLine, UsageMeter } from '@whirl/core';
import { startProcMeter } from './cgroup.js';
import {
  dockerSkeletonProxyPath,
  imageCapabilities,
  imageName,
  loadManifest,
  localPythonCommand,
  nodejsProxyPath,
  pythonProxyPath,
  type ImageCapabilities,
} from '@whirl/runtimes';
import { makeContainerDir, MAX_SOCKET_PATH } from './channel.js';
import { readActivationLogFile } from './log-files.js';
import { LogHub } from './logs.js';

export interface ProcessContainerFactoryOptions {
  /** Image name → argv of the proxy that stands in for it. Default: every nodejs image → proxy.js. */
  images?: Record<string, string[]>;
  /** Added to every child's environment; the spec's env wins. */
  extraEnv?: Record<string, string>;
  /** Where the per-process directories go (socket, log files). @default `<os tmpdir>/whirl-proc-<pid>-<random>`, removed by close */
  stateDir?: string;
  /** Let proxies that can (manifest `capabilities.logFiles`) log to files. @default false */
  logFiles?: boolean;
  /** What an image's proxy speaks besides TCP. @default the bundled manifest's `imageCapabilities` */
  capabilities?: (image: string) => ImageCapabilities;
}

/**
 * The manifest's images this machine can stand in for: nodejs images run `node proxy.js`, python
 * images `python3.11 proxy.py` (python3 when 3.11 is not installed), and the docker skeleton its
 * node proxy, which runs the user's executable directly on the host.
 */
export function defaultProcessImages(): Record<string, string[]> {
  const manifest = loadManifest();
  const images: Record<string, string[]> = {};
  for (const entry of manifest.runtimes['nodejs'] ?? []) {
    images[imageName(entry)] = [process.execPath, nodejsProxyPath];
  }
  for (const entry of manifest.runtimes['python'] ?? []) {
    images[imageName(entry)] = [localPythonCommand(), pythonProxyPath];
  }
  for (const bb of manifest.blackboxes) {
    if (bb.build === 'dockerskeleton') images[imageName({ image: bb })] = [process.execPath, dockerSkeletonProxyPath];
  }
  return images;
}

/** Every child of every factory, so none survives the invoker (detached groups would otherwise). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    // Negative pid: the whole group, so processes the action spawned go too.
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Linux only (reads /proc); elsewhere it returns at once. */
async function waitForStop(pid: number | undefined, timeoutMs = 1000): Promise<void> {
  if (pid === undefined) return;
  const end = Date.now() + timeoutMs;
  for (;;) {
    let state: string | undefined;
    try {
      // The command name may contain spaces or ')', so split after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    } catch {
      return;
    }
    if (state === 'T' || state === 't' || state === 'Z' || Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export class ProcessContainerFactory implements ContainerFactory {
  readonly kind = 'process' as const;
  readonly isolated = false;
  private readonly images: Record<string, string[]>;
  private readonly extraEnv: Record<string, string>;
  private readonly started = new Set<ProcessContainer>();
  private readonly stateDir: string;
  /** The default state dir is this factory's alone (per process), so close removes it. */
  private readonly ownStateDir: boolean;
  private readonly logFiles: boolean;
  private readonly capabilities: (image: string) => ImageCapabilities;

  constructor(opts: ProcessContainerFactoryOptions = {}) {
    this.images = opts.images ?? defaultProcessImages();
    this.extraEnv = opts.extraEnv ?? {};
    this.ownStateDir = opts.stateDir === undefined;
    this.stateDir = path.resolve(opts.stateDir ?? path.join(os.tmpdir(), `whirl-proc-${process.pid}-${randomBytes(3).toString('hex')}`));
    this.logFiles = opts.logFiles ?? false;
    this.capabilities = opts.capabilities ?? ((image) => imageCapabilities(image));
  }

  async hasImage(image: string): Promise<boolean> {
    return Object.hasOwn(this.images, image);
  }

  async create(spec: ContainerSpec): Promise<Container> {
    const argv = this.images[spec.image];
    if (!argv || argv.length === 0) throw new Error(`no local process runtime for image ${spec.image}`);
    const [cmd, ...args] = argv as [string, ...string[]];
    // The port may be taken between probing and the proxy's listen; the invoker's /init then fails
    // like any broken container and it retries with a new one.
    const port = await freePort();
    const caps = this.capabilities(spec.image);
    const logFiles = this.logFiles && caps.logFiles;
    const socket = caps.socket && path.join(this.stateDir, '0123456789', 'proxy.sock').length <= MAX_SOCKET_PATH;
    const dir = socket || logFiles ? makeContainerDir(this.stateDir, logFiles) : undefined;
    const channelEnv: Record<string, string> = dir === undefined ? {} : { WHIRL_PROXY_SOCKET: socket ? path.join(dir, 'proxy.sock') : '' };
    if (dir !== undefined && logFiles) channelEnv['WHIRL_PROXY_LOG_DIR'] = path.join(dir, 'logs');
    // A minimal environment rather than the invoker's own, which may hold credentials. Memory is not
    // limited: a plain child process has no portable per-process memory cap without cgroups, and
    // RLIMIT_AS breaks V8, which reserves large address ranges up front.
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: os.tmpdir(),
      TMPDIR: os.tmpdir(),
      ...this.extraEnv,
      ...spec.env,
      ...channelEnv,
      __OW_PROXY_PORT: String(port),
    };
    const child = spawn(cmd, args, { env, cwd: os.tmpdir(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (e) {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    installExitHook();
    liveChildren.add(child);
    const hub = new LogHub();
    child.stdout?.on('data', (b: Buffer) => hub.push('stdout', b));
    child.stderr?.on('data', (b: Buffer) => hub.push('stderr', b));
    child.stdout?.on('end', () => hub.end('stdout'));
    child.stderr?.on('end', () => hub.end('stderr'));
    const container = new ProcessContainer(child, spec, port, hub, () => {
      liveChildren.delete(child);
      this.started.delete(container);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }, dir === undefined ? undefined : { dir, socket, logFiles });
    this.started.add(container);
    child.once('exit', () => liveChildren.delete(child));
    return container;
  }

  async removeAll(label: string, value: string): Promise<number> {
    const victims = [...this.started].filter((c) => c.labels[label] === value);
    await Promise.all(victims.map((c) => c.destroy()));
    return victims.length;
  }

  async close(): Promise<void> {
    // Nothing else could clean these up once the factory is gone.
    await Promise.all([...this.started].map((c) => c.destroy()));
    if (this.ownStateDir) rmSync(this.stateDir, { recursive: true, force: true });
  }
}

class ProcessContainer implements Container {
  readonly id: string;
  readonly name: string;
  readonly host = '127.0.0.1';
  readonly labels: Record<string, string>;
  readonly socketPath?: string;
  readonly readActivationLogs?: (activationId: string, limits: LogLimits) => Promise<CollectedLogs>;
  private readonly exited: Promise<void>;
  private destroying: Promise<void> | undefined;

  constructor(
    private readonly child: ChildProcess,
    spec: ContainerSpec,
    readonly port: number,
    private readonly hub: LogHub,
    private readonly forget: () => void,
    channel?: { dir: string; socket: boolean; logFiles: boolean },
  ) {
    if (channel?.socket) this.socketPath = path.join(channel.dir, 'proxy.sock');
    if (channel?.logFiles) {
      const logs = path.join(channel.dir, 'logs');
      this.readActivationLogs = (activationId, limits) => readActivationLogFile(logs, activationId, limits);
    }
    this.id = `process-${child.pid}`;
    this.name = spec.name;
    this.labels = { ...spec.labels };
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  onLog(listener: (line: LogLine) => void): void {
    this.hub.onLog(listener);
  }

  async pause(): Promise<void> {
    if (!killGroup(this.child, 'SIGSTOP')) throw new Error(`process ${this.child.pid} is not running`);
    // Signal delivery is asynchronous; like `docker pause`, resolve only once the process is stopped.
    await waitForStop(this.child.pid);
  }

  async resume(): Promise<void> {
    if (!killGroup(this.child, 'SIGCONT')) throw new Error(`process ${this.child.pid} is not running`);
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      // SIGKILL works on a stopped (paused) process too, so no SIGCONT first.
      killGroup(this.child, 'SIGKILL');
      await this.exited;
      this.forget();
    })();
    return this.destroying;
  }

  async wasOomKilled(): Promise<boolean> {
    return false;
  }

  /** The child shares the invoker's cgroup, so its own /proc counters are read instead. */
  async meterUsage(): Promise<UsageMeter | undefined> {
    return this.child.pid === undefined ? undefined : startProcMeter(this.child.pid);
  }

  async isAlive(): Promise<boolean> {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}
