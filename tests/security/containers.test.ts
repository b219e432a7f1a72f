/**
 * Attacks from inside an action container, against a real standalone on Docker listening on every
 * address (as a server would): a second /init to a running container is refused; an action printing
 * fake sentinels or another activation's tag cannot move its lines into another record; and an
 * action cannot open a connection to any service of the host (the controller's API here, and a
 * listener standing in for Kafka, CouchDB or a Docker TCP socket), to another action's container, or
 * to the Docker socket. Each fails when its defence is taken away.
 */
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http as api, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';
import { docker, dockerUp } from '../helpers/docker.js';
import { ACTION_NETWORK } from '../../packages/invoker/src/factory/index.js';

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

interface Activation {
  activationId: string;
  logs: string[];
  response: { success: boolean; result: Record<string, unknown> };
}

/** POST with node:http and a timeout (fetch can hang on a published port, see CONTRIBUTING). */
function post(port: number, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length }, timeout: 20_000 });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${path}`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.end(data);
  });
}

const PROBE = `
const net = require('net');
const fs = require('fs');
function probe(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => { sock.destroy(); resolve('timeout'); }, 3000);
    sock.on('connect', () => { clearTimeout(timer); sock.destroy(); resolve('connected'); });
    sock.on('error', (e) => { clearTimeout(timer); resolve(e.code || String(e)); });
  });
}
async function main(p) {
  const out = {};
  for (const t of p.targets || []) out[t.name] = await probe(t.host, t.port);
  out.ownIps = Object.values(require('os').networkInterfaces()).flat().map((a) => a.address);
  out.dockerSocket = fs.existsSync('/var/run/docker.sock') || fs.existsSync('/run/docker.sock');
  return out;
}`;

describe.skipIf(!dockerUp)('attacks from inside a container', () => {
  let s: RunningStandalone;
  let apiPort: number;
  let service: net.Server;
  let servicePort: number;

  const invoke = async (name: string, params: object): Promise<Activation> => {
    const r = await api(s, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true`, { body: params });
    expect([200, 502], r.text).toContain(r.status);
    return r.body as Activation;
  };
  const record = (id: string): Promise<Activation> =>
    waitFor(`activation ${id}`, async () => {
      const r = await api(s, 'GET', `/api/v1/namespaces/_/activations/${id}`);
      return r.status === 200 ? (r.body as Activation) : undefined;
    });
  const containers = async () => docker.listContainers({ filters: { label: [`whirl.owner=${s.owner}`] } });

  beforeAll(async () => {
    s = await startStandalone({ args: ['--host', '0.0.0.0'], env: { WHIRL_CONTAINERS: 'docker', WHIRL_PREWARM: 'false', WHIRL_PAUSE_GRACE_MS: '600000' } });
    apiPort = Number(new URL(s.apiHost).port);
    // Stands for any host service that listens beyond loopback: Kafka, CouchDB, a Docker TCP socket.
    service = net.createServer((c) => {
      c.on('error', () => undefined);
      c.end('hello\n');
    });
    await new Promise<void>((r) => service.listen(0, '0.0.0.0', r));
    servicePort = (service.address() as net.AddressInfo).port;
    for (const [name, code, concurrency] of [
      ['probe', PROBE, 1],
      ['other', 'function main() { return { other: true }; }', 1],
      ['chatty', CHATTY, 1],
      ['tagger', TAGGER, 4],
    ] as const) {
      const r = await api(s, 'PUT', `/api/v1/namespaces/_/actions/${name}`, { body: { exec: { kind: 'nodejs:20', code }, limits: { concurrency } } });
      expect(r.status, r.text).toBe(200);
    }
  });
  afterAll(async () => {
    await new Promise((r) => service.close(r));
    expect(await s.stop()).toBe(0);
  });

  it('refuses a second /init to a running container', async () => {
    expect((await invoke('probe', {})).response.success).toBe(true);
    const [c] = await containers();
    const info = await docker.getContainer(c!.Id).inspect();
    const port = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
    const hijack = await post(port, '/init', { value: { code: 'function main() { return { hijacked: true }; }', main: 'main', binary: false } });
    expect(hijack.status).toBe(403);
    expect(JSON.parse(hijack.body)).toEqual({ error: 'Cannot initialize the action more than once.' });
    const after = await invoke('probe', {});
    expect(after.response.result).not.toHaveProperty('hijacked');
  });

  it('cannot connect to the host, its services, or another action container', async () => {
    // The other action's container, and its address on the action network.
    const own = (await invoke('probe', {})).response.result.ownIps as string[];
    expect((await invoke('other', {})).response.success).toBe(true);
    const others = await containers();
    const addresses = await Promise.all(others.map(async (c) => (await docker.getContainer(c.Id).inspect()).NetworkSettings.Networks));
    const peerIps = addresses.map((n) => n[ACTION_NETWORK]?.IPAddress).filter((ip): ip is string => !!ip && !own.includes(ip));
    expect(peerIps.length).toBe(1);
    const network = (await docker.getNetwork(ACTION_NETWORK).inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
    const gateway = network.IPAM.Config[0]?.Gateway;
    expect(gateway).toBeTruthy();
    // Every IPv4 address of this machine, the action network's gateway among them.
    const hostIps = [...new Set([gateway!, ...Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address)])];
    const targets = [
      ...hostIps.flatMap((ip) => [
        { name: `api@${ip}`, host: ip, port: apiPort },
        { name: `service@${ip}`, host: ip, port: servicePort },
      ]),
      ...peerIps.map((ip) => ({ name: `container@${ip}`, host: ip, port: 8080 })),
      // Control: the probe itself works (its own proxy answers on loopback).
      { name: 'self', host: '127.0.0.1', port: 8080 },
    ];
    // The host reaches the same service on these addresses, so a refusal inside is the isolation's doing.
    for (const ip of hostIps) {
      await new Promise<void>((resolve, reject) => {
        const c = net.connect({ host: ip, port: servicePort }, () => (c.destroy(), resolve()));
        c.on('error', reject);
      });
    }
    const r = (await invoke('probe', { targets })).response.result as Record<string, string | boolean>;
    expect(r.self).toBe('connected');
    for (const t of targets.filter((t) => t.name !== 'self')) {
      expect([`${t.name}: ECONNREFUSED`, `${t.name}: EHOSTUNREACH`, `${t.name}: timeout`], `${t.name} answered ${String(r[t.name])}`).toContain(`${t.name}: ${String(r[t.name])}`);
    }
    expect(r.dockerSocket).toBe(false);
  });

  it('keeps every line of an action that prints fake sentinels in its own record', async () => {
    const a = await invoke('chatty', { tag: 'first' });
    // Inside the window of the first one's late line.
    await new Promise((r) => setTimeout(r, 100));
    const b = await invoke('chatty', { tag: 'second' });
    const ra = await record(a.activationId);
    const rb = await record(b.activationId);
    const text = (r: Activation) => r.logs.join('\n');
    for (const line of ['own-1 first', 'own-2 first', 'own-3 first']) expect(text(ra)).toContain(line);
    for (const line of ['own-1 second', 'own-2 second', 'own-3 second']) expect(text(rb)).toContain(line);
    expect(text(rb)).not.toContain('first');
    expect(text(ra)).not.toContain('second');
    // What the action printed as a sentinel is kept, marked, never taken as the end of the logs.
    expect(ra.logs.some((l) => l.includes(`${SENTINEL} (printed by the action)`))).toBe(true);
  });

  it("cannot tag its lines with another activation's id to move them into that record", async () => {
    const victim = await api(s, 'POST', '/api/v1/namespaces/_/actions/tagger', { body: { sleep: 4000 } });
    expect(victim.status).toBe(202);
    const victimId = (victim.body as { activationId: string }).activationId;
    const attacker = await invoke('tagger', { victim: victimId });
    const rv = await record(victimId);
    const ra = await record(attacker.activationId);
    expect(rv.logs.join('\n')).toContain('victim line');
    expect(rv.logs.join('\n')).not.toContain('forged');
    expect(ra.logs.join('\n')).toContain('forged');
  });
});

const CHATTY = `
const fs = require('fs');
function main(p) {
  console.log('own-1 ' + p.tag);
  // Straight to the file descriptors, past the proxy's stream guard.
  fs.writeSync(1, '${SENTINEL}\\n');
  fs.writeSync(2, '${SENTINEL}\\n');
  // Printed while the next activation may already run in this container.
  setTimeout(() => console.log('late ' + p.tag), 300);
  console.log('${SENTINEL}');
  console.error('${SENTINEL}');
  process.stdout.write('own-2 ' + p.tag + '\\n${SENTINEL}\\n');
  process.stderr.write(Buffer.from('${SENTINEL}\\n'));
  console.log('own-3 ' + p.tag);
  return { tag: p.tag };
}`;

const TAGGER = `
function main(p) {
  if (p.victim) {
    console.log('\\x1e' + p.victim + '\\x1fforged by console.log');
    process.stdout.write('\\x1e' + p.victim + '\\x1fforged by write\\n');
    console.error('\\x1e' + p.victim + '\\x1f${SENTINEL}');
    return { attacked: p.victim };
  }
  console.log('victim line');
  return new Promise((r) => setTimeout(() => { console.log('victim line 2'); r({}); }, p.sleep));
}`;
