import Dockerode from 'dockerode';
import type { Container, LogLine } from '@whirl/core';
import { ensureRuntimeImages, imageName, resolveKind } from '@whirl/runtimes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerContainerFactory } from './docker.js';
import { postJson, postJsonWithRetry, ProxyHttpError } from './http.js';

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
