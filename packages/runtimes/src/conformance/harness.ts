/**
 * Ways to start an action proxy for the conformance suite: as a local child process, or as a Docker
 * container from an image. Both collect the proxy's output as lines, per stream.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  stream: LogStream;
  text: string;
}

/** A started proxy: where it listens, what it printed so far (complete lines), how to stop it. */
export interface RunningProxy {
  host: string;
  port: number;
  /** When set, requests go to this Unix socket instead of host:port (Whirl's proxies serve on both). */
  socketPath?: string;
  logs(): LogLine[];
  stop(): Promise<void>;
}

/** Starts a fresh proxy; `env` is added to the container (process) environment. */
export type StartProxy = (env?: Record<string, string>) => Promise<RunningProxy>;

/** Splits a byte stream into lines, keeping a partial last line until it completes. */
class LineCollector {
  readonly lines: LogLine[] = [];
  private readonly partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  push(stream: LogStream, chunk: Buffer): void {
    const text = this.partial[stream] + this.decoders[stream].decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const p of parts) this.lines.push({ stream, text: p });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface HttpResult {
  status: number;
  text: string;
}

/** One request on its own connection, so a proxy dying mid-request shows as a rejected promise. */
export function request(
  host: string,
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  timeoutMs = 15_000,
  socketPath?: string,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const req = http.request(
      {
        ...(socketPath !== undefined ? { socketPath } : { host, port }),
        path,
        method,
        agent: false,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (!res.complete) reject(new Error('connection closed before the response was complete'));
          else resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Waits until the server answers any HTTP request (docker-proxy accepts before the proxy listens). */
async function waitForHttp(host: string, port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await request(host, port, 'GET', '/ready-probe', undefined, 2000);
      return;
    } catch (e) {
      if (!alive()) throw new Error(`the proxy exited before listening: ${(e as Error).message}`);
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** A proxy run as `argv` on this machine, listening on a free port given in `__OW_PROXY_PORT`. */
export function processProxy(argv: readonly string[], baseEnv: Record<string, string> = {}): StartProxy {
  return async (env = {}) => {
    const port = await freePort();
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: os.tmpdir(), TMPDIR: os.tmpdir(), ...baseEnv, ...env, __OW_PROXY_PORT: String(port) },
      cwd: os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = new LineCollector();
    child.stdout.on('data', (b: Buffer) => lines.push('stdout', b));
    child.stderr.on('data', (b: Buffer) => lines.push('stderr', b));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const alive = () => child.exitCode === null && child.signalCode === null;
    const stop = async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
    };
    try {
      await waitForHttp('127.0.0.1', port, 10_000, alive);
    } catch (e) {
      await stop();
      throw e;
    }
    return { host: '127.0.0.1', port, logs: () => [...lines.lines], stop };
  };
}

/** True when a Docker daemon answers within `timeoutMs`. */
export async function dockerAvailable(docker: Dockerode, timeoutMs = 3000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      docker.ping().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** A proxy run as a container of `image`, its port 8080 published on 127.0.0.1. */
export function dockerProxy(docker: Dockerode, image: string, baseEnv: Record<string, string> = {}): StartProxy {
  return async (env = {}) => {
    const c = await docker.createContainer({
      Image: image,
      Env: Object.entries({ ...baseEnv, ...env }).map(([k, v]) => `${k}=${v}`),
      Labels: { 'whirl.test': 'runtime-conformance' },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: {
        Memory: 256 * 1024 * 1024,
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      },
    });
    const stop = async () => {
      await c.remove({ force: true }).catch((e: unknown) => {
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      });
    };
    try {
      const lines = new LineCollector();
      // Attach before start, or the first lines could be missed.
      const stream = await c.attach({ stream: true, stdout: true, stderr: true, logs: false });
      const out = new PassThrough();
      const err = new PassThrough();
      out.on('data', (b: Buffer) => lines.push('stdout', b));
      err.on('data', (b: Buffer) => lines.push('stderr', b));
      docker.modem.demuxStream(stream, out, err);
      await c.start();
      const info = await c.inspect();
      const hostPort = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
      if (!hostPort) throw new Error(`container ${c.id} has no published port`);
      let running = true;
      const alive = () => running;
      const watch = setInterval(() => {
        c.inspect().then(
          (i) => {
            running = i.State.Running;
          },
          () => {
            running = false;
          },
        );
      }, 200);
      try {
        await waitForHttp('127.0.0.1', hostPort, 15_000, alive);
      } finally {
        clearInterval(watch);
      }
      return { host: '127.0.0.1', port: hostPort, logs: () => [...lines.lines], stop };
    } catch (e) {
      await stop();
      throw e;
    }
  };
}
