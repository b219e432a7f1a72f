import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { LogLine } from '@whirl/core';
import { imageName, loadManifest, localPythonCommand, pythonProxyPath, resolveKind } from '@whirl/runtimes';
import {
  describeRuntimeConformance,
  dockerSkeletonFixtures,
  nodejsFixtures,
  pythonFixtures,
  type ConformanceFixtures,
  type LogLine as ConformanceLogLine,
  type StartProxy,
} from '@whirl/runtimes/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson, postJsonWithRetry, ProxyHttpError } from './http.js';
import { defaultProcessImages, ProcessContainerFactory } from './process.js';

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const entry = resolveKind('nodejs:default');
if (!entry) throw new Error('manifest has no nodejs default');
const image = imageName(entry);

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function procState(pid: number): string {
  // Field 3 of /proc/<pid>/stat; the command name before it may hold spaces, hence the ')' split.
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop()?.trim().split(' ')[0] ?? '?';
}

describe('ProcessContainerFactory', () => {
  const factory = new ProcessContainerFactory({ extraEnv: { __OW_API_HOST: 'http://127.0.0.1:3233' } });
  let seq = 0;
  const spec = (labelValue = 'a') => ({
    name: `whirl_ptest_${seq++}`,
    image,
    memoryMB: 256,
    env: { __OW_TEST: 'yes' },
    labels: { 'whirl.test': labelValue },
  });

  afterAll(() => factory.close());

  it('only knows the mapped images and is not isolated', async () => {
    expect(factory.isolated).toBe(false);
    expect(factory.kind).toBe('process');
    expect(await factory.hasImage(image)).toBe(true);
    expect(await factory.hasImage('whirl/other:latest')).toBe(false);
    await expect(factory.create({ ...spec(), image: 'whirl/other:latest' })).rejects.toThrow(/no local process runtime/);
  });

  it('runs an action with logs and sentinels, pauses, resumes and destroys', async () => {
    const c = await factory.create(spec());
    const pid = Number(c.id.replace('process-', ''));
    const code = 'function main(p) { console.log("hi " + p.who, process.env.__OW_TEST, process.env.__OW_API_HOST, typeof process.env.DATABASE_URL); return { who: p.who } }';
    const init = await postJsonWithRetry(c.host, c.port, '/init', { value: { name: 'a', main: 'main', code } }, 10_000, 5_000);
    expect(init.status).toBe(200);
    const lines: LogLine[] = [];
    c.onLog((l) => lines.push(l));
    expect(await postJson(c.host, c.port, '/run', { value: { who: 'proc' } }, 5_000)).toMatchObject({ status: 200, body: '{"who":"proc"}' });
    await until(() => lines.filter((l) => l.text === SENTINEL).length >= 2, 5_000, 'sentinels');
    // The invoker's own environment is not handed to user code.
    expect(lines.map((l) => l.text)).toContain('hi proc yes http://127.0.0.1:3233 undefined');
    expect(lines.find((l) => l.text.startsWith('hi'))?.iso).toMatch(/\.\d{9}Z$/);

    await c.pause();
    expect(procState(pid)).toBe('T');
    const stalled = await postJson(c.host, c.port, '/run', { value: { who: 'x' } }, 300).catch((e: unknown) => e);
    expect(stalled).toBeInstanceOf(ProxyHttpError);
    expect((stalled as ProxyHttpError).kind).toBe('timeout');
    await c.resume();
    expect(procState(pid)).not.toBe('T');
    await until(() => lines.filter((l) => l.text === SENTINEL).length >= 4, 5_000, 'the stalled run to finish');
    expect(await postJson(c.host, c.port, '/run', { value: { who: 'back' } }, 5_000)).toMatchObject({ status: 200, body: '{"who":"back"}' });

    expect(await c.isAlive()).toBe(true);
    expect(await c.wasOomKilled()).toBe(false);
    await c.destroy();
    await c.destroy();
    expect(await c.isAlive()).toBe(false);
  });

  it('reports a crashed proxy as dead and a dropped connection as reset', async () => {
    const c = await factory.create(spec());
    const code = 'function main() { process.exit(3) }';
    await postJsonWithRetry(c.host, c.port, '/init', { value: { name: 'a', main: 'main', code } }, 10_000, 5_000);
    const err = await postJson(c.host, c.port, '/run', { value: {} }, 5_000).catch((e: unknown) => e);
    expect((err as ProxyHttpError).kind).toBe('reset');
    await until(async () => !(await c.isAlive()), 5_000, 'exit');
    await c.destroy();
  });

  it('removes the processes it started by label', async () => {
    const made = await Promise.all([factory.create(spec('bulk')), factory.create(spec('bulk')), factory.create(spec('keep'))]);
    expect(await factory.removeAll('whirl.test', 'bulk')).toBe(2);
    expect(await made[0]?.isAlive()).toBe(false);
    expect(await made[1]?.isAlive()).toBe(false);
    expect(await made[2]?.isAlive()).toBe(true);
    expect(await factory.removeAll('whirl.test', 'bulk')).toBe(0);
    await made[2]?.destroy();
  });
});

describe('postJson', () => {
  it('distinguishes refused connections from timeouts', async () => {
    // Accepts, reads and never answers.
    const srv = net.createServer((sock) => sock.resume());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const addr = srv.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const t = await postJson('127.0.0.1', port, '/run', {}, 200).catch((e: unknown) => e);
    expect(t).toMatchObject({ kind: 'timeout' });
    await new Promise<void>((r) => srv.close(() => r()));
    const started = Date.now();
    const r = await postJsonWithRetry('127.0.0.1', port, '/init', {}, 5_000, 300).catch((e: unknown) => e);
    expect(r).toMatchObject({ kind: 'refused' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe('defaultProcessImages', () => {
  it('maps the nodejs, python and docker-skeleton images to local proxies', () => {
    const images = defaultProcessImages();
    const python = resolveKind('python:default');
    expect(python && images[imageName(python)]).toEqual([localPythonCommand(), pythonProxyPath]);
    expect(images[image]?.[0]).toBe(process.execPath);
    expect(images['whirl/dockerskeleton:latest']?.[1]).toMatch(/dockerskeleton\/proxy\.js$/);
  });
});

// The runtime conformance suite through this adapter, for every image it can stand in for.
const conformanceFactory = new ProcessContainerFactory();
afterAll(() => conformanceFactory.close());
let conformanceSeq = 0;

function throughFactory(img: string): StartProxy {
  return async (env = {}) => {
    const c = await conformanceFactory.create({
      name: `whirl_pconf_${conformanceSeq++}`,
      image: img,
      memoryMB: 256,
      env,
      labels: { 'whirl.test': 'conformance' },
    });
    const lines: ConformanceLogLine[] = [];
    c.onLog((l) => lines.push({ stream: l.stream, text: l.text }));
    // Any HTTP answer means the proxy listens; the suite's first request may be a /run.
    await postJsonWithRetry(c.host, c.port, '/ready-probe', {}, 10_000, 10_000);
    return { host: c.host, port: c.port, logs: () => [...lines], stop: () => c.destroy() };
  };
}

const skeleton = loadManifest().blackboxes.find((b) => b.name === 'dockerskeleton');
const conformanceTargets: [string, ConformanceFixtures][] = [
  [image, nodejsFixtures],
  [imageName(resolveKind('python:default') ?? { image: { name: 'missing-python' } }), pythonFixtures],
  ...(skeleton ? [[imageName({ image: skeleton }), dockerSkeletonFixtures] as [string, ConformanceFixtures]] : []),
];
for (const [img, fixtures] of conformanceTargets) {
  describeRuntimeConformance(`${img} through ProcessContainerFactory`, throughFactory(img), { fixtures });
}
