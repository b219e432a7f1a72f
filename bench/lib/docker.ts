/**
 * Containers for floors and for finding Whirl's own: only containers this run created are ever
 * removed (by id), and Whirl's are only read (port, memory).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Dockerode from 'dockerode';
import { request } from 'undici';
import { sleep } from './config.js';
import type { Scope } from './scope.js';

export const docker = new Dockerode();
export const NODE_IMAGE = 'whirl/action-nodejs-v20:latest';
const PROXY_PORT = '8080/tcp';

export interface FoundContainer {
  id: string;
  name: string;
  port: number;
}

function publishedPort(info: Dockerode.ContainerInfo): number | undefined {
  return info.Ports.find((p) => p.PrivatePort === 8080 && p.IP === '127.0.0.1')?.PublicPort ?? info.Ports.find((p) => p.PrivatePort === 8080)?.PublicPort;
}

/** Whirl's running containers whose name passes `match` (the pool names them `whirl<N>_<seq>_<ns>_<action>`). */
export async function whirlContainers(match: (name: string) => boolean): Promise<FoundContainer[]> {
  const list = await docker.listContainers({ filters: { label: ['whirl.invoker'], status: ['running'] } });
  const out: FoundContainer[] = [];
  for (const c of list) {
    const name = (c.Names[0] ?? '').replace(/^\//, '');
    const port = publishedPort(c);
    if (match(name) && port !== undefined) out.push({ id: c.Id, name, port });
  }
  return out;
}

/** The warm container of one action (this run's action names are unique). */
export async function actionContainer(namespace: string, action: string): Promise<FoundContainer> {
  const found = await whirlContainers((n) => n.endsWith(`_${namespace}_${action}`));
  if (found.length === 0) throw new Error(`no running container found for ${namespace}/${action}`);
  return found[0]!;
}

/** Stem cells of the deployment whose containers call back to `apiHost`. */
export async function stemCells(apiHost: string): Promise<FoundContainer[]> {
  const mine: FoundContainer[] = [];
  for (const c of await whirlContainers((n) => n.includes('_prewarm_'))) {
    const info = await docker.getContainer(c.id).inspect().catch(() => undefined);
    if (info?.Config.Env.includes(`__OW_API_HOST=${apiHost}`)) mine.push(c);
  }
  return mine;
}

/** Memory as `docker stats` shows it: usage minus inactive page cache, in MB. */
export async function containerMemMB(id: string): Promise<number | null> {
  try {
    const s = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true })) as unknown as {
      memory_stats?: { usage?: number; stats?: Record<string, number> };
    };
    const usage = s.memory_stats?.usage;
    if (usage === undefined) return null;
    const st = s.memory_stats?.stats ?? {};
    const inactive = st.inactive_file ?? st.total_inactive_file ?? 0;
    return (usage - inactive) / (1024 * 1024);
  } catch {
    return null;
  }
}

/** A valid /run body, as the invoker sends it. */
export function runBody(namespace: string, action: string): string {
  return JSON.stringify({
    value: {},
    namespace,
    action_name: `/${namespace}/${action}`,
    action_version: '0.0.1',
    activation_id: randomBytes(16).toString('hex'),
    transaction_id: randomBytes(16).toString('hex'),
    deadline: String(Date.now() + 3_600_000),
  });
}

export const initBody = (action: string): string =>
  JSON.stringify({ value: { name: action, main: 'main', binary: false, code: 'function main(params) { return {}; }', env: {} } });

async function post(port: number, path: string, body: string): Promise<number> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.body.dump();
  return res.statusCode;
}

/** POST, retrying while nothing listens yet (docker-proxy accepts and drops until the proxy is up). */
async function postWhenUp(port: number, path: string, body: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await post(port, path, body);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(Math.min(2 + attempt * 2, 20));
    }
  }
}

export interface BareContainer {
  id: string;
  port: number;
  remove(): Promise<void>;
}

/**
 * A container of `image` made the way Whirl's Docker factory makes one (bridge network, port
 * published on 127.0.0.1, same limits), labelled for this run; removal is registered with `scope`.
 */
export async function startBareContainer(scope: Scope, image: string, memoryMB = 256): Promise<BareContainer> {
  const MiB = 1024 * 1024;
  const c = await docker.createContainer({
    name: `whirlbench_${randomBytes(5).toString('hex')}`,
    Image: image,
    Labels: { 'whirl.bench': '1' },
    ExposedPorts: { [PROXY_PORT]: {} },
    HostConfig: {
      Memory: memoryMB * MiB,
      MemorySwap: memoryMB * MiB,
      PidsLimit: 1024,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      CapDrop: ['NET_RAW', 'NET_ADMIN'],
      NetworkMode: 'bridge',
      PortBindings: { [PROXY_PORT]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
  });
  const remove = scope.defer(`container ${c.id.slice(0, 12)}`, async () => {
    await c.remove({ force: true }).catch((e: unknown) => {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    });
  });
  await c.start();
  const info = await c.inspect();
  const port = Number(info.NetworkSettings.Ports?.[PROXY_PORT]?.find((b) => b.HostIp === '127.0.0.1')?.HostPort);
  if (!Number.isInteger(port) || port <= 0) {
    await remove();
    throw new Error(`container ${c.id} has no published port`);
  }
  return { id: c.id, port, remove };
}

/**
 * Create + start + /init + first /run of a fresh container (ms). Removal is not timed and is left
 * to the caller to await, as Whirl too removes containers off the request path.
 */
export async function coldFloorOnce(scope: Scope, image: string, memoryMB = 256): Promise<{ ms: number; removed: Promise<void> }> {
  const t0 = performance.now();
  const c = await startBareContainer(scope, image, memoryMB);
  try {
    const init = await postWhenUp(c.port, '/init', initBody('floor'));
    const run = await post(c.port, '/run', runBody('guest', 'floor'));
    if (init !== 200 || run !== 200) throw new Error(`bare container answered /init ${init}, /run ${run}`);
    return { ms: performance.now() - t0, removed: c.remove() };
  } catch (e) {
    await c.remove();
    throw e;
  }
}

/** /init + /run on a container that is already up and listening (ms); the stem cell floor. */
export async function stemFloorOnce(scope: Scope, image: string, memoryMB = 256): Promise<number> {
  const c = await startBareContainer(scope, image, memoryMB);
  try {
    // Listening, not initialised: the proxy answers any GET with an error status.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const res = await request(`http://127.0.0.1:${c.port}/`, { method: 'GET' });
        await res.body.dump();
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(5);
      }
    }
    const t0 = performance.now();
    const init = await post(c.port, '/init', initBody('floor'));
    const run = await post(c.port, '/run', runBody('guest', 'floor'));
    if (init !== 200 || run !== 200) throw new Error(`bare container answered /init ${init}, /run ${run}`);
    return performance.now() - t0;
  } finally {
    await c.remove();
  }
}
