import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildTestBlackboxImage, dockerSkeletonProxyPath, ensureRuntimeImages } from '../images.js';
import { imageName, loadManifest } from '../manifest.js';
import { makeZip } from '../testing/archives.js';
import { dockerSkeletonFixtures } from './fixtures.js';
import { dockerAvailable, dockerProxy, processProxy, request, type RunningProxy, type StartProxy } from './harness.js';
import { describeRuntimeConformance, NOT_A_DICTIONARY, SENTINEL } from './suite.js';

const docker = new Dockerode();
const hasDocker = await dockerAvailable(docker);
const noDocker = hasDocker ? {} : { skip: 'no Docker daemon answers' };
const skeleton = loadManifest().blackboxes.find((b) => b.name === 'dockerskeleton');
if (!skeleton) throw new Error('the manifest lists no dockerskeleton blackbox');
const skeletonImage = imageName({ image: skeleton });

const local = processProxy([process.execPath, dockerSkeletonProxyPath]);
const inDocker = dockerProxy(docker, skeletonImage);

describeRuntimeConformance('docker skeleton as a local process', local, { fixtures: dockerSkeletonFixtures });
describeRuntimeConformance(`${skeletonImage} in Docker`, inDocker, {
  fixtures: dockerSkeletonFixtures,
  setup: async () => {
    await ensureRuntimeImages({ docker });
  },
  ...noDocker,
});

const nodeScriptEcho = '#!/usr/bin/env node\nconsole.log(process.argv[2]);\n';

async function post(p: RunningProxy, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await request(p.host, p.port, 'POST', path, JSON.stringify(body));
  return { status: r.status, json: JSON.parse(r.text) as unknown };
}

async function waitLines(p: RunningProxy, n: number): Promise<void> {
  const until = Date.now() + 5000;
  while (p.logs().filter((l) => l.text === SENTINEL).length < 2 * n) {
    if (Date.now() > until) throw new Error(`no sentinels in ${JSON.stringify(p.logs())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function skeletonSpecifics(name: string, start: StartProxy, opts: { skip?: string; shell: boolean }): void {
  (opts.skip !== undefined ? describe.skip : describe)(`docker skeleton specifics: ${name}`, () => {
    const started: RunningProxy[] = [];
    afterEach(async () => {
      await Promise.all(started.splice(0).map((p) => p.stop()));
    });
    const go = async (code: string, binary = false) => {
      const p = await start();
      started.push(p);
      expect((await post(p, '/init', { value: { name: 'x', main: 'main', binary, code } })).status).toBe(200);
      return p;
    };

    it.skipIf(!opts.shell)('runs /bin/sh scripts: params in argv and on stdin, the last stdout line is the result', async () => {
      const p = await go(
        ['#!/bin/sh', 'read -r line', 'echo "log before"', 'echo "to stderr" >&2', 'echo "{\\"argv\\": $1, \\"stdin\\": $line, \\"id\\": \\"$__OW_ACTIVATION_ID\\"}"', ''].join('\n'),
      );
      const r = await post(p, '/run', { value: { x: 1 }, activation_id: 'a1' });
      expect(r).toEqual({ status: 200, json: { argv: { x: 1 }, stdin: { x: 1 }, id: 'a1' } });
      await waitLines(p, 1);
      const out = p.logs().filter((l) => l.stream === 'stdout').map((l) => l.text);
      const err = p.logs().filter((l) => l.stream === 'stderr').map((l) => l.text);
      expect(out).toEqual(['log before', SENTINEL]);
      expect(err).toEqual(['to stderr', SENTINEL]);
    });

    it('accepts a non-zip binary as the executable itself', async () => {
      const script = '#!/usr/bin/env node\nconsole.log(JSON.stringify({ native: true }))\n';
      const p = await go(Buffer.from(script).toString('base64'), true);
      expect(await post(p, '/run', { value: {} })).toEqual({ status: 200, json: { native: true } });
    });

    it('fails a non-zero exit with 502 and the error', async () => {
      const p = await go('#!/usr/bin/env node\nconsole.error("it went wrong");\nprocess.exit(3)\n');
      const r = await post(p, '/run', { value: {} });
      expect(r).toEqual({ status: 502, json: { error: 'The action exited with code 3: it went wrong' } });
      await waitLines(p, 1);
    });

    it('refuses a last line that is not a JSON object', async () => {
      const p = await go('#!/usr/bin/env node\nconsole.log("{}")\nconsole.log("not json")\n');
      expect(await post(p, '/run', { value: {} })).toEqual({ status: 502, json: { error: NOT_A_DICTIONARY } });
      const q = await go('#!/usr/bin/env node\nconsole.log("[1, 2]")\n');
      expect(await post(q, '/run', { value: {} })).toEqual({ status: 502, json: { error: NOT_A_DICTIONARY } });
      await waitLines(q, 1);
      // The offending line is logged for the developer.
      expect(q.logs().map((l) => l.text)).toContain('[1, 2]');
    });

    it('drains an over-limit body with a 500 and keeps serving', async () => {
      const p = await go(nodeScriptEcho);
      // Past the 48 MiB limit: refused, but read to its end, so the caller gets an answer, not a reset.
      const big = Buffer.alloc(48 * 1024 * 1024 + 1024, 0x20);
      const r = await request(p.host, p.port, 'POST', '/run', big, 60_000);
      expect({ status: r.status, json: JSON.parse(r.text) as unknown }).toEqual({ status: 500, json: { error: 'Bad request.' } });
      expect(await post(p, '/run', { value: { after: 1 } })).toEqual({ status: 200, json: { after: 1 } });
    });

    it('answers a result it cannot serialise with a 500 and keeps serving', async () => {
      // JSON.parse takes any depth, JSON.stringify does not: the proxy holds a result it cannot send.
      const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
      const p = await go(`#!/usr/bin/env node\nconst p = JSON.parse(process.argv[2]);\nconsole.log(p.deep ? ${JSON.stringify(deep)} : JSON.stringify(p));\n`);
      expect(await post(p, '/run', { value: { deep: true } })).toEqual({ status: 500, json: { error: 'Internal error.' } });
      expect(await post(p, '/run', { value: { after: 2 } })).toEqual({ status: 200, json: { after: 2 } });
    });

    it('fails init when a zip has no exec', async () => {
      const p = await start();
      started.push(p);
      const zip = makeZip([{ name: 'other', content: 'x' }]).toString('base64');
      const r = await post(p, '/init', { value: { name: 'x', main: 'main', binary: true, code: zip } });
      expect(r.status).toBe(502);
      expect((r.json as { error: string }).error).toMatch(/exec/);
    });
  });
}

skeletonSpecifics('local process', local, { shell: true });
skeletonSpecifics(`${skeletonImage} in Docker`, inDocker, { ...noDocker, shell: true });

(hasDocker ? describe : describe.skip)(`test blackbox image${hasDocker ? '' : ' (skipped: no Docker daemon answers)'}`, () => {
  // A private tag, so that removing it cannot disturb other tests using the default one.
  const tag = `whirl/test-blackbox-${randomBytes(4).toString('hex')}:latest`;
  const started: RunningProxy[] = [];
  beforeAll(async () => {
    await buildTestBlackboxImage(docker, tag);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => {});
  });

  it('builds idempotently and answers /run with {"blackbox": true, ...params}', async () => {
    const before = (await docker.getImage(tag).inspect()).Id;
    await buildTestBlackboxImage(docker, tag);
    expect((await docker.getImage(tag).inspect()).Id).toBe(before);
    const p = await dockerProxy(docker, tag)();
    started.push(p);
    expect(await post(p, '/init', { value: { name: 'x', main: 'main', binary: false } })).toEqual({ status: 200, json: { OK: true } });
    expect(await post(p, '/run', { value: { a: 1 } })).toEqual({ status: 200, json: { blackbox: true, a: 1 } });
  });
});
