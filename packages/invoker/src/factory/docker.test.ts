import Dockerode from 'dockerode';
import type { Container, LogLine } from '@whirl/core';
import { ensureRuntimeImages, imageName, loadManifest, resolveKind } from '@whirl/runtimes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerContainerFactory } from './docker.js';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerAgent, postJson, postJsonWithRetry, ProxyHttpError } from './http.js';

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });

async function dockerAnswers(): Promise<boolean> {
  try {
    await Promise.race([docker.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000))]);
    return true;
  } catch {
    return false;
  }
}

const dockerUp = await dockerAnswers();
if (!dockerUp) console.warn('docker.test.ts: skipped, no Docker daemon answers at /var/run/docker.sock');

const runId = `t${process.pid}_${Date.now().toString(36)}`;
const LABEL = 'whirl.test';
let seq = 0;

function collect(c: Container): LogLine[] {
  const lines: LogLine[] = [];
  c.onLog((l) => lines.push(l));
  return lines;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sentinelCount = (lines: LogLine[]) => lines.filter((l) => l.text === SENTINEL).length;

describe.skipIf(!dockerUp)('DockerContainerFactory (real Docker)', () => {
  const factory = new DockerContainerFactory({ docker, extraEnv: { __OW_API_HOST: 'http://127.0.0.1:3233' } });
  const entry = resolveKind('nodejs:default');
  if (!entry) throw new Error('manifest has no nodejs default');
  const image = imageName(entry);

  const spec = (memoryMB = 256, labelValue = runId) => ({
    name: `whirl_test_${runId}_${seq++}`,
    image,
    memoryMB,
    env: { __OW_TEST: 'yes' },
    labels: { [LABEL]: labelValue },
  });

  beforeAll(async () => {
    // Kept afterwards: other tests use the runtime image.
    await ensureRuntimeImages({ docker });
  }, 180_000);

  afterAll(async () => {
    await factory.removeAll(LABEL, runId);
    await factory.removeAll(LABEL, `${runId}_bulk`);
  });

  it('knows which images exist', async () => {
    expect(await factory.hasImage(image)).toBe(true);
    expect(await factory.hasImage('whirl/does-not-exist:nope')).toBe(false);
  });

  it('runs an action, streams its logs with sentinels, survives pause/resume and is destroyed', async () => {
    const c = await factory.create(spec());
    try {
      expect(c.host).toBe('127.0.0.1');
      expect(c.port).toBeGreaterThan(0);
      expect(await c.isAlive()).toBe(true);
      const code = 'function main(p) { console.log("hello " + p.name, process.env.__OW_TEST, process.env.__OW_API_HOST); console.error("to stderr"); return { n: p.n * 2 } }';
      const init = await postJsonWithRetry(c.host, c.port, '/init', { value: { name: 'a', main: 'main', code, binary: false, env: {} } }, 10_000, 5_000);
      expect(init.status).toBe(200);
      // Registered late on purpose: lines printed before that are buffered, not lost.
      const lines = collect(c);
      const run1 = await postJson(c.host, c.port, '/run', { value: { name: 'docker', n: 21 }, activation_id: 'a1' }, 10_000);
      expect(run1).toMatchObject({ status: 200, body: '{"n":42}' });
      await until(() => sentinelCount(lines) >= 2, 5_000, 'two sentinels');
      expect(lines.map((l) => `${l.stream}:${l.text}`)).toEqual(
        expect.arrayContaining(['stdout:hello docker yes http://127.0.0.1:3233', 'stderr:to stderr', `stdout:${SENTINEL}`, `stderr:${SENTINEL}`]),
      );
      const stdout = lines.filter((l) => l.stream === 'stdout').map((l) => l.text);
      expect(stdout.indexOf('hello docker yes http://127.0.0.1:3233')).toBeLessThan(stdout.indexOf(SENTINEL));
      for (const l of lines) {
        expect(l.iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
        expect(Math.abs(l.time - Date.now())).toBeLessThan(60_000);
      }

      await c.pause();
      const info = await docker.getContainer(c.id).inspect();
      expect(info.State.Paused).toBe(true);
      await c.resume();
      const run2 = await postJson(c.host, c.port, '/run', { value: { name: 'again', n: 1 } }, 10_000);
      expect(run2).toMatchObject({ status: 200, body: '{"n":2}' });
      await until(() => sentinelCount(lines) >= 4, 5_000, 'four sentinels');
      expect(lines.some((l) => l.text === 'hello again yes http://127.0.0.1:3233')).toBe(true);
    } finally {
      await c.destroy();
    }
    await c.destroy(); // idempotent
    expect(await c.isAlive()).toBe(false);
    await expect(docker.getContainer(c.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('reports an action that exceeds its memory limit as OOM killed', async () => {
    const c = await factory.create(spec(128));
    try {
      const code = 'function main() { const keep = []; for (;;) keep.push(Buffer.alloc(16 * 1024 * 1024, 1)); }';
      const init = await postJsonWithRetry(c.host, c.port, '/init', { value: { name: 'hog', main: 'main', code, binary: false } }, 10_000, 5_000);
      expect(init.status).toBe(200);
      const err = await postJson(c.host, c.port, '/run', { value: {} }, 20_000).then(
        (r) => r,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProxyHttpError);
      expect((err as ProxyHttpError).kind).toBe('reset');
      await until(async () => !(await c.isAlive()), 5_000, 'container exit');
      expect(await c.wasOomKilled()).toBe(true);
    } finally {
      await c.destroy();
    }
  }, 40_000);

  it('removes every container carrying a label', async () => {
    const value = `${runId}_bulk`;
    const made = await Promise.all([factory.create(spec(128, value)), factory.create(spec(128, value))]);
    expect(await factory.removeAll(LABEL, value)).toBe(2);
    for (const c of made) await expect(docker.getContainer(c.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(await factory.removeAll(LABEL, value)).toBe(0);
    for (const c of made) await c.destroy(); // already gone: tolerated
  });

  it('removes the container when the image does not exist', async () => {
    await expect(factory.create({ ...spec(), image: 'whirl/does-not-exist:nope' })).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe.skipIf(!dockerUp)('DockerContainerFactory with a state directory (real Docker)', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'whirl-dstate-'));
  const files = new DockerContainerFactory({ docker, stateDir, logFiles: true });
  // The skeleton as any OpenWhisk image would be: the manifest says it speaks nothing but TCP.
  const foreign = new DockerContainerFactory({ docker, stateDir, logFiles: true, capabilities: () => ({ socket: false, logFiles: false }) });
  const nodeImage = imageName(resolveKind('nodejs:default') ?? { image: { name: 'missing' } });
  const skeleton = loadManifest().blackboxes.find((b) => b.name === 'dockerskeleton');
  const skeletonImage = skeleton ? imageName({ image: skeleton }) : 'missing-skeleton';
  const value = `${runId}_state`;
  const spec = (image: string) => ({ name: `whirl_test_${runId}_${seq++}`, image, memoryMB: 128, env: { __OW_ALLOW_CONCURRENT: 'true' }, labels: { [LABEL]: value } });
  const id = (i: number) => i.toString(16).padStart(32, 'b');

  beforeAll(async () => {
    await ensureRuntimeImages({ docker });
  }, 180_000);
  afterAll(async () => {
    await files.removeAll(LABEL, value);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reaches a Whirl image over its socket in /whirl, reads its logs from files, attaches no stream, and removes the directory with it', async () => {
    const c = await files.create(spec(nodeImage));
    const agent = containerAgent(c);
    const dir = path.dirname(c.socketPath ?? '');
    try {
      expect(c.socketPath).toBe(path.join(dir, 'proxy.sock'));
      expect(path.dirname(dir)).toBe(stateDir);
      const lines = collect(c);
      const via = { agent, socketPath: c.socketPath! };
      const code = 'console.log("loading"); function main(p) { console.log("hello " + p.n); console.error("to stderr"); return { n: p.n * 2 } }';
      const init = await postJsonWithRetry(c.host, c.port, '/init', { value: { name: 'a', main: 'main', code, binary: false, env: { __OW_ACTIVATION_ID: id(1) } } }, 10_000, 5_000, via);
      expect(init.status).toBe(200);
      expect(await postJson(c.host, c.port, '/run', { value: { n: 21 }, activation_id: id(1) }, 10_000, via)).toMatchObject({ status: 200, body: '{"n":42}' });
      const logs = await c.readActivationLogs!(id(1), { limitBytes: 1024 * 1024 });
      expect(logs.lines.map((l) => l.replace(/^\S+\s+/, ''))).toEqual(['stdout: loading', 'stdout: hello 21', 'stderr: to stderr']);
      // Over TCP too: an OpenWhisk invoker would see the usual image.
      expect(await postJson(c.host, c.port, '/run', { value: { n: 1 }, activation_id: id(2) }, 10_000)).toMatchObject({ status: 200, body: '{"n":2}' });
      expect((await c.readActivationLogs!(id(2), { limitBytes: 1024 * 1024 })).lines).toHaveLength(2);
      expect(readdirSync(path.join(dir, 'logs'))).toEqual([]);
      // Paused and resumed, the socket still serves.
      await c.pause();
      await c.resume();
      expect(await postJson(c.host, c.port, '/run', { value: { n: 3 }, activation_id: id(3) }, 10_000, via)).toMatchObject({ status: 200, body: '{"n":6}' });
      await new Promise((r) => setTimeout(r, 200));
      expect(lines).toEqual([]);
    } finally {
      agent.destroy();
      await c.destroy();
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('runs the skeleton image without the socket capability over TCP on 127.0.0.1, its logs on the stream', async () => {
    const c = await foreign.create(spec(skeletonImage));
    try {
      expect(c.socketPath).toBeUndefined();
      expect(c.readActivationLogs).toBeUndefined();
      expect(c.host).toBe('127.0.0.1');
      const lines = collect(c);
      const code = '#!/bin/sh\necho "over tcp"\necho "{\\"ok\\": true}"\n';
      expect((await postJsonWithRetry(c.host, c.port, '/init', { value: { name: 'a', main: 'main', code, binary: false } }, 10_000, 5_000)).status).toBe(200);
      expect(await postJson(c.host, c.port, '/run', { value: {}, activation_id: id(4) }, 10_000)).toMatchObject({ status: 200, body: '{"ok":true}' });
      await until(() => sentinelCount(lines) >= 2, 5_000, 'two sentinels');
      expect(lines.map((l) => l.text)).toContain('over tcp');
      // No directory was made for it.
      expect(readdirSync(stateDir)).toEqual([]);
    } finally {
      await c.destroy();
    }
  });

  it('removes the directories of the containers removeAll removes', async () => {
    const made = await Promise.all([files.create(spec(nodeImage)), files.create(spec(nodeImage))]);
    expect(readdirSync(stateDir)).toHaveLength(2);
    expect(await files.removeAll(LABEL, value)).toBe(2);
    expect(readdirSync(stateDir)).toEqual([]);
    for (const c of made) await c.destroy();
  });
});
