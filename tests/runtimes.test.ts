/**
 * Every action kind end to end through the official `openwhisk` client against a real standalone with
 * Docker: Python (plain and zip with a virtualenv folder), a blackbox image built locally, a native
 * executable on the docker skeleton, a missing image, and a Node.js action with concurrency 5 serving 5
 * parallel invokes in one container with each activation's logs its own.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BLACKBOX_IMAGE, buildTestBlackboxImage } from '@whirl/runtimes';
import { makeZip } from '../packages/runtimes/src/testing/archives.js';
import { http, startStandalone, waitFor, type RunningStandalone } from './helpers/standalone.js';
import { docker, dockerUp } from './helpers/docker.js';

interface Activation {
  activationId: string;
  logs: string[];
  response: { status: string; success: boolean; result: Record<string, unknown> };
}

describe.skipIf(!dockerUp)('runtimes and action kinds', () => {
  let s: RunningStandalone;
  let ow: ReturnType<typeof openwhisk>;

  beforeAll(async () => {
    await buildTestBlackboxImage(docker);
    s = await startStandalone({ env: { WHIRL_CONTAINERS: 'docker', WHIRL_PREWARM: 'false' } });
    ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
  });
  afterAll(async () => {
    expect(await s.stop()).toBe(0);
    await docker.getImage(TEST_BLACKBOX_IMAGE).remove({ force: true }).catch(() => undefined);
  });

  const record = (id: string): Promise<Activation> =>
    waitFor(`activation ${id}`, async () => {
      const r = await http(s, 'GET', `/api/v1/namespaces/_/activations/${id}`);
      return r.status === 200 ? (r.body as Activation) : undefined;
    });

  it('runs a Python action', async () => {
    await ow.actions.create({
      name: 'py',
      kind: 'python:default',
      action: 'import sys\ndef main(args):\n    print("from python", sys.version_info[0])\n    return {"greeting": "hello " + args.get("name", "?")}\n',
    } as never);
    const got = await ow.actions.get({ name: 'py' });
    expect((got.exec as { kind: string }).kind).toBe('python:3.11');
    const a = (await ow.actions.invoke({ name: 'py', blocking: true, params: { name: 'py' } })) as unknown as Activation;
    expect(a.response.result).toEqual({ greeting: 'hello py' });
    expect((await record(a.activationId)).logs.join('\n')).toMatch(/stdout: from python 3/);
  });

  it('runs a Python zip action with __main__.py and a virtualenv folder', async () => {
    const zip = makeZip([
      { name: '__main__.py', content: 'import helper\ndef main(args):\n    return {"v": helper.value()}\n' },
      { name: 'virtualenv/lib/python3.11/site-packages/helper.py', content: 'def value():\n    return 42\n' },
    ]);
    await ow.actions.create({ name: 'pyzip', kind: 'python:3.11', action: zip } as never);
    const a = (await ow.actions.invoke({ name: 'pyzip', blocking: true })) as unknown as Activation;
    expect(a.response.result).toEqual({ v: 42 });
  });

  it('runs a blackbox action from a locally built image', async () => {
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/bb', { body: { exec: { kind: 'blackbox', image: TEST_BLACKBOX_IMAGE } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ exec: { kind: 'blackbox', image: TEST_BLACKBOX_IMAGE, binary: false } });
    const a = (await ow.actions.invoke({ name: 'bb', blocking: true, params: { x: 1 } })) as unknown as Activation;
    expect(a.response.result).toMatchObject({ blackbox: true, x: 1 });
  });

  it('fails a blackbox action whose image is missing with the pull error', async () => {
    await http(s, 'PUT', '/api/v1/namespaces/_/actions/nope', { body: { exec: { kind: 'blackbox', image: 'whirl/no-such-image:1' } } });
    const r = await http(s, 'POST', '/api/v1/namespaces/_/actions/nope?blocking=true', { body: {} });
    expect(r.status).toBe(502);
    expect(r.body).toMatchObject({
      response: { status: 'action developer error', result: { error: "Failed to pull container image 'whirl/no-such-image:1'." } },
    });
  });

  it('runs a native executable on the docker skeleton (--native)', async () => {
    const zip = makeZip([{ name: 'exec', content: '#!/bin/sh\necho "log line"\necho "{\\"native\\": true, \\"args\\": $1}"\n' }]);
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/native', {
      body: { exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton', code: zip.toString('base64') } },
    });
    expect(r.status).toBe(200);
    const a = (await ow.actions.invoke({ name: 'native', blocking: true, params: { k: 'v' } })) as unknown as Activation;
    expect(a.response.result).toEqual({ native: true, args: { k: 'v' } });
    expect((await record(a.activationId)).logs.join('\n')).toMatch(/stdout: log line/);
  });

  it('serves 5 parallel invokes of a concurrency-5 Node.js action from one container, logs kept apart', async () => {
    await ow.actions.create({
      name: 'conc',
      action: `async function main(p) {
        console.log('start ' + p.i);
        await new Promise((r) => setTimeout(r, 400));
        console.log('end ' + p.i);
        return { i: p.i };
      }`,
      limits: { concurrency: 5 },
    } as never);
    const limits = await http(s, 'GET', '/api/v1/namespaces/_/limits');
    expect(limits.body).toMatchObject({ maxActionConcurrency: 100 });
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => ow.actions.invoke({ name: 'conc', blocking: true, params: { i } }) as unknown as Promise<Activation>),
    );
    expect(results.map((r) => r.response.result.i)).toEqual([0, 1, 2, 3, 4]);
    const containers = await docker.listContainers({ all: true, filters: { name: ['guest_conc'], label: [`whirl.owner=${s.owner}`] } });
    expect(containers).toHaveLength(1);
    for (const [i, r] of results.entries()) {
      const logs = (await record(r.activationId)).logs.map((l) => l.replace(/^\S+\s+/, ''));
      expect(logs).toEqual([`stdout: start ${i}`, `stdout: end ${i}`]);
    }
  });

  it('refuses concurrency above 1 for other kinds and above the maximum', async () => {
    const py = await http(s, 'PUT', '/api/v1/namespaces/_/actions/pyconc', {
      body: { exec: { kind: 'python:3.11', code: 'def main(a):\n    return a\n' }, limits: { concurrency: 2 } },
    });
    expect(py.status).toBe(400);
    const high = await http(s, 'PUT', '/api/v1/namespaces/_/actions/high', {
      body: { exec: { kind: 'nodejs:20', code: 'function main(a) { return a; }' }, limits: { concurrency: 101 } },
    });
    expect(high.status).toBe(400);
    expect((high.body as { error: string }).error).toBe('concurrency 101 exceeds allowed threshold of 100');
  });
});
