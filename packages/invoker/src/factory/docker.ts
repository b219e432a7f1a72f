/**
 * ContainerFactory on a Docker daemon (the production adapter).
 *
 * Every container's proxy is reachable over TCP on its port 8080 (published on the host's 127.0.0.1,
 * or its address on the network), which is all an OpenWhisk image offers. Given a `stateDir`, the
 * factory also gives each container whose image says so in the runtime manifest (`capabilities`) a
 * directory of its own, `<stateDir>/<random>`, mounted at /whirl: Whirl's proxies then serve on
 * /whirl/proxy.sock as well (the handle's `socketPath`; no docker-proxy process between the invoker
 * and the container), and with `logFiles` write each activation's logs to /whirl/logs/<id> instead of
 * stdout (the handle's `readActivationLogs`; no attach stream through the daemon). The directory is
 * removed with the container.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Dockerode from 'dockerode';
import type { CollectedLogs, Container, ContainerFactory, ContainerSpec, LogLimits, LogLine, UsageMeter } from '@whirl/core';
import { imageCapabilities, type ImageCapabilities } from '@whirl/runtimes';
import { locateCgroup, startCgroupMeter, type CgroupLocation } from './cgroup.js';
import { makeContainerDir, MAX_SOCKET_PATH, WHIRL_MOUNT } from './channel.js';
import { ACTION_NETWORK, prepareActionNetwork } from './isolation.js';
import { readActivationLogFile } from './log-files.js';
import { LogHub } from './logs.js';

export interface DockerContainerFactoryOptions {
  docker?: Dockerode;
  /**
   * Docker network for action containers. Default: `whirl-actions`, a bridge the factory creates with
   * inter-container traffic off and a host firewall rule (docs/isolation.md). Any other network is
   * used as it is (OpenWhisk's default is `bridge`, which isolates nothing).
   */
  network?: string;
  /** Where the isolation warning goes when the firewall rule cannot be set (default: stderr). */
  warn?: (message: string) => void;
  /** Added to every container's environment (e.g. `__OW_API_HOST`); the spec's env wins. */
  extraEnv?: Record<string, string>;
  /** The invoker's user memory, for OpenWhisk's cpu-shares formula. Default 1024. */
  userMemoryMB?: number;
  /**
   * How the invoker reaches a container's proxy: `published` (a port published on the host's
   * 127.0.0.1: the invoker runs on the host) or `network` (the container's address on `network`: the
   * invoker itself runs in a container attached to that network, as in docker-compose).
   */
  reach?: 'published' | 'network';
  /**
   * The invoker's own directory for per-container directories mounted at /whirl (see the header).
   * Only with `reach: 'published'`: the daemon must see the invoker's paths. Unset: TCP and the
   * attach stream for every container.
   */
  stateDir?: string;
  /** Let images that can (manifest `capabilities.logFiles`) log to files in their directory. @default false */
  logFiles?: boolean;
  /** What an image's proxy speaks besides TCP. @default the bundled manifest's `imageCapabilities` */
  capabilities?: (image: string) => ImageCapabilities;
}

const PROXY_PORT = '8080/tcp';
const MiB = 1024 * 1024;

function statusCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined;
}

export class DockerContainerFactory implements ContainerFactory {
  readonly kind = 'docker' as const;
  readonly isolated = true;
  readonly docker: Dockerode;
  private readonly network: string;
  private readonly extraEnv: Record<string, string>;
  private readonly userMemoryMB: number;
  private readonly reach: 'published' | 'network';
  private readonly warn: (message: string) => void;
  private readonly stateDir: string | undefined;
  private readonly logFiles: boolean;
  private readonly capabilities: (image: string) => ImageCapabilities;
  private prepared: Promise<void> | undefined;

  constructor(opts: DockerContainerFactoryOptions = {}) {
    this.docker = opts.docker ?? new Dockerode();
    this.network = opts.network ?? ACTION_NETWORK;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`${m}\n`));
    this.extraEnv = opts.extraEnv ?? {};
    this.userMemoryMB = opts.userMemoryMB ?? 1024;
    this.reach = opts.reach ?? 'published';
    // Absolute: it is the bind mount's source, which the daemon resolves on its own.
    this.stateDir = this.reach === 'published' && opts.stateDir !== undefined ? path.resolve(opts.stateDir) : undefined;
    this.logFiles = opts.logFiles ?? false;
    this.capabilities = opts.capabilities ?? ((image) => imageCapabilities(image));
  }

  /** The container's directory on the host and what its proxy is told, or undefined for plain TCP. */
  private channelFor(image: string): { dir: string; socket: boolean; logFiles: boolean; env: Record<string, string> } | undefined {
    if (this.stateDir === undefined) return undefined;
    const caps = this.capabilities(image);
    const logFiles = this.logFiles && caps.logFiles;
    const socket = caps.socket && path.join(this.stateDir, '0123456789', 'proxy.sock').length <= MAX_SOCKET_PATH;
    if (!socket && !logFiles) return undefined;
    const dir = makeContainerDir(this.stateDir, logFiles);
    const env: Record<string, string> = { WHIRL_PROXY_SOCKET: socket ? `${WHIRL_MOUNT}/proxy.sock` : '' };
    if (logFiles) env['WHIRL_PROXY_LOG_DIR'] = `${WHIRL_MOUNT}/logs`;
    return { dir, socket, logFiles, env };
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (e) {
      if (statusCode(e) === 404) return false;
      throw e;
    }
  }

  async pull(image: string): Promise<void> {
    const stream = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  /** Sets up the managed action network once (a no-op for any other network). */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      if (this.network !== ACTION_NETWORK) return;
      const outcome = await prepareActionNetwork(this.docker, this.network);
      if (outcome.warning) this.warn(outcome.warning);
    })().catch((e: unknown) => {
      this.prepared = undefined;
      throw e;
    });
    return this.prepared;
  }

  async create(spec: ContainerSpec): Promise<Container> {
    await this.prepare();
    const channel = this.channelFor(spec.image);
    try {
      return await this.createIn(spec, channel);
    } catch (e) {
      if (channel) rmSync(channel.dir, { recursive: true, force: true });
      throw e;
    }
  }

  private async createIn(spec: ContainerSpec, channel: ReturnType<DockerContainerFactory['channelFor']>): Promise<Container> {
    const env = { ...this.extraEnv, ...spec.env, ...channel?.env };
    const cpuShares = Math.max(Math.floor(1024 / (this.userMemoryMB / spec.memoryMB)), 2);
    const c = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      // The directory's name, so that removeAll finds the directories of leftover containers.
      Labels: channel ? { ...spec.labels, [DIR_LABEL]: channel.dir } : spec.labels,
      Tty: false,
      AttachStdout: !channel?.logFiles,
      AttachStderr: !channel?.logFiles,
      ExposedPorts: { [PROXY_PORT]: {} },
      HostConfig: {
        Memory: spec.memoryMB * MiB,
        // Same as memory: no swap, so an over-limit action is OOM killed instead of crawling.
        MemorySwap: spec.memoryMB * MiB,
        CpuShares: cpuShares,
        PidsLimit: 1024,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
        CapDrop: ['NET_RAW', 'NET_ADMIN'],
        NetworkMode: this.network,
        ...(channel ? { Mounts: [{ Type: 'bind' as const, Source: channel.dir, Target: WHIRL_MOUNT }] } : {}),
        // Empty HostPort: the daemon picks a free port; only reachable from this host.
        ...(this.reach === 'published' ? { PortBindings: { [PROXY_PORT]: [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}),
      },
    });
    const hub = new LogHub();
    try {
      // With log files nothing is read from the container's output: Docker's log driver keeps it.
      const detach = channel?.logFiles ? () => {} : await this.attach(c, hub);
      await c.start();
      const info = await c.inspect();
      const extras: DockerContainerExtras = {
        ...(info.State.Pid ? { pid: info.State.Pid } : {}),
        ...(channel ? { dir: channel.dir, socket: channel.socket, logFiles: channel.logFiles } : {}),
      };
      if (this.reach === 'network') {
        const ip = info.NetworkSettings.Networks?.[this.network]?.IPAddress;
        if (!ip) throw new Error(`container ${spec.name} has no address on network ${this.network}`);
        return new DockerContainer(c, spec.name, ip, 8080, hub, detach, extras);
      }
      const binding = info.NetworkSettings.Ports?.[PROXY_PORT]?.find((b) => b.HostIp === '127.0.0.1') ??
        info.NetworkSettings.Ports?.[PROXY_PORT]?.[0];
      const port = Number(binding?.HostPort);
      if (!Number.isInteger(port) || port <= 0) {
        throw new Error(`container ${spec.name} has no published port for ${PROXY_PORT}`);
      }
      return new DockerContainer(c, spec.name, '127.0.0.1', port, hub, detach, extras);
    } catch (e) {
      await c.remove({ force: true }).catch(() => {});
      throw e;
    }
  }

  /** Feeds the container's output into `hub`; returns how to stop. Before start, or the first lines (and an early crash message) could be missed. */
  private async attach(c: Dockerode.Container, hub: LogHub): Promise<() => void> {
    const stream = await c.attach({ stream: true, stdout: true, stderr: true, logs: false });
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (b: Buffer) => hub.push('stdout', b));
    err.on('data', (b: Buffer) => hub.push('stderr', b));
    this.docker.modem.demuxStream(stream, out, err);
    const finish = () => {
      hub.end('stdout');
      hub.end('stderr');
    };
    stream.on('end', finish);
    stream.on('error', finish);
    return () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
    };
  }

  async removeAll(label: string, value: string): Promise<number> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
    let removed = 0;
    await Promise.all(
      list.map(async (info) => {
        try {
          await this.docker.getContainer(info.Id).remove({ force: true });
          removed++;
        } catch (e) {
          // Gone already, or another remover got there first.
          if (statusCode(e) !== 404 && statusCode(e) !== 409) throw e;
        }
        removeContainerDir(this.stateDir, info.Labels?.[DIR_LABEL]);
      }),
    );
    return removed;
  }

  async close(): Promise<void> {
    // Containers outlive the factory on purpose: the invoker removes its leftovers with removeAll.
  }
}

const DIR_LABEL = 'whirl.dir';

/** Removes a container's directory, only ever one inside `stateDir` (the path comes from a label). */
function removeContainerDir(stateDir: string | undefined, dir: string | undefined): void {
  if (stateDir === undefined || dir === undefined || path.dirname(dir) !== stateDir) return;
  rmSync(dir, { recursive: true, force: true });
}

interface DockerContainerExtras {
  /** The container's main process on the host, as Docker reported it at start (finds its cgroup). */
  pid?: number;
  /** Its directory on the host (mounted at /whirl), and what the proxy does there. */
  dir?: string;
  socket?: boolean;
  logFiles?: boolean;
}

class DockerContainer implements Container {
  private destroying: Promise<void> | undefined;
  private cgroup: Promise<CgroupLocation | undefined> | undefined;
  readonly socketPath?: string;
  readonly readActivationLogs?: (activationId: string, limits: LogLimits) => Promise<CollectedLogs>;
  private readonly pid: number | undefined;
  private readonly dir: string | undefined;

  constructor(
    private readonly c: Dockerode.Container,
    readonly name: string,
    readonly host: string,
    readonly port: number,
    private readonly hub: LogHub,
    private readonly detach: () => void,
    extras: DockerContainerExtras = {},
  ) {
    this.pid = extras.pid;
    this.dir = extras.dir;
    const dir = extras.dir;
    if (dir !== undefined && extras.socket) this.socketPath = path.join(dir, 'proxy.sock');
    if (dir !== undefined && extras.logFiles) {
      const logs = path.join(dir, 'logs');
      this.readActivationLogs = (activationId, limits) => readActivationLogFile(logs, activationId, limits);
    }
  }

  get id(): string {
    return this.c.id;
  }

  onLog(listener: (line: LogLine) => void): void {
    this.hub.onLog(listener);
  }

  async pause(): Promise<void> {
    await this.c.pause();
  }

  async resume(): Promise<void> {
    await this.c.unpause();
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      try {
        await this.c.remove({ force: true });
      } catch (e) {
        const code = statusCode(e);
        // 409: removal already in progress, which ends the same way.
        if (code !== 404 && code !== 409) {
          this.destroying = undefined;
          throw e;
        }
      }
      this.detach();
      if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.destroying;
  }

  async wasOomKilled(): Promise<boolean> {
    const state = await this.state();
    return state?.OOMKilled === true;
  }

  async meterUsage(): Promise<UsageMeter | undefined> {
    // The cgroup stays the same for the container's life: find it once, from its main process.
    this.cgroup ??= this.pid ? locateCgroup(this.pid) : Promise.resolve(undefined);
    const loc = await this.cgroup;
    return loc ? startCgroupMeter(loc).catch(() => undefined) : undefined;
  }

  async isAlive(): Promise<boolean> {
    const state = await this.state();
    return state?.Running === true;
  }

  private async state(): Promise<Dockerode.ContainerInspectInfo['State'] | undefined> {
    try {
      return (await this.c.inspect()).State;
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw e;
    }
  }
}
