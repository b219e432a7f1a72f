/**
 * ContainerFactory on a Docker daemon (the production adapter).
 */
import { PassThrough } from 'node:stream';
import Dockerode from 'dockerode';
import type { Container, ContainerFactory, ContainerSpec, LogLine, UsageMeter } from '@whirl/core';
import { locateCgroup, startCgroupMeter, type CgroupLocation } from './cgroup.js';
import { ACTION_NETWORK, prepareActionNetwork } from './isolation.js';
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
  private prepared: Promise<void> | undefined;

  constructor(opts: DockerContainerFactoryOptions = {}) {
    this.docker = opts.docker ?? new Dockerode();
    this.network = opts.network ?? ACTION_NETWORK;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`${m}\n`));
    this.extraEnv = opts.extraEnv ?? {};
    this.userMemoryMB = opts.userMemoryMB ?? 1024;
    this.reach = opts.reach ?? 'published';
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
    const env = { ...this.extraEnv, ...spec.env };
    const cpuShares = Math.max(Math.floor(1024 / (this.userMemoryMB / spec.memoryMB)), 2);
    const c = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: spec.labels,
      Tty: false,
      AttachStdout: true,
      AttachStderr: true,
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
        // Empty HostPort: the daemon picks a free port; only reachable from this host.
        ...(this.reach === 'published' ? { PortBindings: { [PROXY_PORT]: [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}),
      },
    });
    const hub = new LogHub();
    try {
      // Attach before start, or the first lines (and an early crash message) could be missed.
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
      await c.start();
      const info = await c.inspect();
      if (this.reach === 'network') {
        const ip = info.NetworkSettings.Networks?.[this.network]?.IPAddress;
        if (!ip) throw new Error(`container ${spec.name} has no address on network ${this.network}`);
        return new DockerContainer(c, spec.name, ip, 8080, hub, () => {
          (stream as unknown as { destroy?: () => void }).destroy?.();
        }, info.State.Pid);
      }
      const binding = info.NetworkSettings.Ports?.[PROXY_PORT]?.find((b) => b.HostIp === '127.0.0.1') ??
        info.NetworkSettings.Ports?.[PROXY_PORT]?.[0];
      const port = Number(binding?.HostPort);
      if (!Number.isInteger(port) || port <= 0) {
        throw new Error(`container ${spec.name} has no published port for ${PROXY_PORT}`);
      }
      return new DockerContainer(c, spec.name, '127.0.0.1', port, hub, () => {
        (stream as unknown as { destroy?: () => void }).destroy?.();
      }, info.State.Pid);
    } catch (e) {
      await c.remove({ force: true }).catch(() => {});
      throw e;
    }
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
      }),
    );
    return removed;
  }

  async close(): Promise<void> {
    // Containers outlive the factory on purpose: the invoker removes its leftovers with removeAll.
  }
}

class DockerContainer implements Container {
  private destroying: Promise<void> | undefined;
  private cgroup: Promise<CgroupLocation | undefined> | undefined;

  constructor(
    private readonly c: Dockerode.Container,
    readonly name: string,
    readonly host: string,
    readonly port: number,
    private readonly hub: LogHub,
    private readonly detach: () => void,
    /** The container's main process on the host, as Docker reported it at start (finds its cgroup). */
    private readonly pid?: number,
  ) {}

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
