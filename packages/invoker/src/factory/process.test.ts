import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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
import { existsSync, readdirSync } from 'node:fs';
import { containerAgent, postJson, postJsonWithRetry, ProxyHttpError } from './http.js';
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

function throughFactory(img: string, via: 'tcp' | 'socket' = 'tcp'): StartProxy {
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
    const socketPath = via === 'socket' ? c.socketPath : undefined;
    if (via === 'socket' && socketPath === undefined) throw new Error(`${img} got no socket`);
    await postJsonWithRetry(c.host, c.port, '/ready-probe', {}, 10_000, 10_000, socketPath !== undefined ? { socketPath } : {});
    return { host: c.host, port: c.port, ...(socketPath !== undefined ? { socketPath } : {}), logs: () => [...lines], stop: () => c.destroy() };
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
  describeRuntimeConformance(`${img} through ProcessContainerFactory, over its Unix socket`, throughFactory(img, 'socket'), { fixtures });
}

describe('ProcessContainerFactory: Unix socket and log files', () => {
  const files = new ProcessContainerFactory({ logFiles: true });
  const plain = new ProcessContainerFactory({ logFiles: true, capabilities: () => ({ socket: false, logFiles: false }) });
  afterAll(async () => {
    await files.close();
    await plain.close();
  });
  let n = 0;
  const act = () => (0x10000 + n++).toString(16).padStart(32, 'a');
  const python = imageName(resolveKind('python:default') ?? { image: { name: 'missing-python' } });
  const skeletonImage = skeleton ? imageName({ image: skeleton }) : 'missing-skeleton';
  const limits = { limitBytes: 1024 * 1024 };
  const text = (lines: string[]) => lines.map((l) => l.replace(/^\S+\s+/, ''));

  async function started(f: ProcessContainerFactory, img: string, env: Record<string, string> = {}) {
    const c = await f.create({ name: `whirl_pfile_${n++}`, image: img, memoryMB: 256, env: { __OW_ALLOW_CONCURRENT: 'true', ...env }, labels: { 'whirl.test': 'files' } });
    const streamed: LogLine[] = [];
    c.onLog((l) => streamed.push(l));
    const agent = containerAgent(c);
    const post = (p: string, body: unknown) =>
      postJsonWithRetry(c.host, c.port, p, body, 10_000, p === '/init' ? 10_000 : 0, { agent, ...(c.socketPath !== undefined ? { socketPath: c.socketPath } : {}) });
    return { c, streamed, post, agent };
  }

  const cases: [string, string, string][] = [
    [image, 'function main(p) { console.log("out " + p.i); console.error("err " + p.i); return { i: p.i } }', 'main'],
    [python, 'import sys\ndef main(a):\n    print("out %s" % a["i"])\n    print("err %s" % a["i"], file=sys.stderr)\n    return {"i": a["i"]}\n', 'main'],
    [skeletonImage, '#!/bin/sh\nread -r line\necho "out 7"\necho "err 7" >&2\necho "$line"\n', 'main'],
  ];
  for (const [img, code, main] of cases) {
    it(`${img}: /init and /run over the socket, each activation's lines from its own file, nothing on the stream`, async () => {
      const { c, streamed, post, agent } = await started(files, img);
      try {
        expect(c.socketPath).toMatch(/proxy\.sock$/);
        expect(c.readActivationLogs).toBeDefined();
        const id = act();
        expect((await post('/init', { value: { name: 'a', main, code, binary: false, env: { __OW_ACTIVATION_ID: id } } })).status).toBe(200);
        const r = await post('/run', { value: { i: 7 }, activation_id: id });
        expect(r).toMatchObject({ status: 200, body: expect.stringMatching(/"i": ?7/) as unknown });
        const logs = await c.readActivationLogs!(id, limits);
        expect(logs.complete).toBe(true);
        expect(text(logs.lines).sort()).toEqual(['stderr: err 7', 'stdout: out 7']);
        expect(logs.lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
        // Read once: the file is gone, a second read finds nothing.
        expect((await c.readActivationLogs!(id, limits)).lines).toEqual([]);
        expect(streamed.filter((l) => l.text.includes('7') || l.text === SENTINEL)).toEqual([]);
        // TCP on the port still answers: the same proxy, as an OpenWhisk invoker would reach it.
        const id2 = act();
        expect((await postJson(c.host, c.port, '/run', { value: { i: 7 }, activation_id: id2 }, 5_000)).status).toBe(200);
        expect(text((await c.readActivationLogs!(id2, limits)).lines).sort()).toEqual(['stderr: err 7', 'stdout: out 7']);
      } finally {
        agent.destroy();
        await c.destroy();
      }
      expect(existsSync(c.socketPath!)).toBe(false);
    });
  }

  it('keeps concurrent activations apart and cannot be spoofed by what an action prints', async () => {
    const { c, post, agent } = await started(files, image);
    try {
      const a = act();
      const b = act();
      // The action prints fake sentinels, stream tags naming the other activation and log-file
      // records (after a newline), and leaves a partial line; it also logs late, after its answer.
      const code = `async function main(p) {
        console.log('start ' + p.me);
        console.log('XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX');
        process.stdout.write('\\x1e' + p.other + '\\x1fforged tag\\no1796306400123456789 forged record\\nc1796306400123456789 \\n');
        await new Promise((r) => setTimeout(r, p.ms));
        console.error('end ' + p.me);
        process.stdout.write('partial ' + p.me);
        setTimeout(() => console.log('late ' + p.me), 20);
        return { me: p.me };
      }`;
      expect((await post('/init', { value: { name: 'a', main: 'main', code, binary: false, env: { __OW_ACTIVATION_ID: a } } })).status).toBe(200);
      const [ra, rb] = await Promise.all([
        post('/run', { value: { me: 'A', other: b, ms: 200 }, activation_id: a }),
        post('/run', { value: { me: 'B', other: a, ms: 50 }, activation_id: b }),
      ]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      await new Promise((r) => setTimeout(r, 60));
      for (const [id, me] of [[a, 'A'], [b, 'B']] as const) {
        const logs = await c.readActivationLogs!(id, limits);
        expect(text(logs.lines)).toEqual([
          `stdout: start ${me}`,
          'stdout: XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX (printed by the action)',
          `stdout: \x1e${me === 'A' ? b : a}\x1fforged tag`,
          'stdout: o1796306400123456789 forged record',
          'stdout: c1796306400123456789 ',
          `stderr: end ${me}`,
          `stdout: partial ${me}`,
        ]);
      }
      // What came after the answers went to stdout, into no file.
      expect(readdirSync(path.join(path.dirname(c.socketPath!), 'logs'))).toEqual([]);
    } finally {
      agent.destroy();
      await c.destroy();
    }
  });

  it('gives an image without the capabilities neither socket nor files: TCP and the stream, as for any OpenWhisk image', async () => {
    const { c, streamed } = await started(plain, image);
    try {
      expect(c.socketPath).toBeUndefined();
      expect(c.readActivationLogs).toBeUndefined();
      const code = 'function main(p) { console.log("over tcp"); return {} }';
      expect((await postJsonWithRetry(c.host, c.port, '/init', { value: { name: 'a', main: 'main', code } }, 10_000, 5_000)).status).toBe(200);
      expect((await postJson(c.host, c.port, '/run', { value: {}, activation_id: act() }, 5_000)).status).toBe(200);
      await until(() => streamed.filter((l) => l.text.endsWith(SENTINEL)).length >= 2, 5_000, 'sentinels');
      expect(streamed.map((l) => l.text).join('\n')).toMatch(/over tcp/);
    } finally {
      await c.destroy();
    }
  });
});
