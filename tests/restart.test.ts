/**
 * Nothing is lost across a crash: an activation whose id was handed out before standalone was killed
 * (SIGKILL, no chance to clean up) reads back after the restart as a failed record, and the restarted
 * server removes the containers the dead one left behind.
 */
import { describe, expect, it } from 'vitest';
import { http, startStandalone, waitFor } from './helpers/standalone.js';
import { docker, dockerUp } from './helpers/docker.js';

describe.skipIf(!dockerUp)('restart after a crash', () => {
  it('records the activations the crash interrupted and removes leftover containers', async () => {
    const env = { WHIRL_CONTAINERS: 'docker', WHIRL_PREWARM: 'false' };
    const first = await startStandalone({ env });
    await http(first, 'PUT', '/api/v1/namespaces/_/actions/slow', {
      body: { exec: { kind: 'nodejs:20', code: 'function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 30000)); }' } },
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await http(first, 'POST', '/api/v1/namespaces/_/actions/slow', { body: {} });
      expect(r.status).toBe(202);
      ids.push((r.body as { activationId: string }).activationId);
    }
    await waitFor('a running container', async () => {
      const cs = await docker.listContainers({ filters: { name: ['guest_slow'], label: [`whirl.owner=${first.owner}`] } });
      return cs.length > 0 ? cs : undefined;
    });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startStandalone({ env, dataDir: first.dataDir });
    try {
      for (const id of ids) {
        const r = await http(second, 'GET', `/api/v1/namespaces/_/activations/${id}`);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({
          activationId: id,
          name: 'slow',
          response: { status: 'whisk internal error', success: false, result: { error: expect.stringMatching(/did not complete/) } },
        });
      }
      const left = await docker.listContainers({ all: true, filters: { name: ['guest_slow'], label: [`whirl.owner=${first.owner}`] } });
      expect(left).toEqual([]);
      // And the restarted server works.
      await http(second, 'PUT', '/api/v1/namespaces/_/actions/quick', { body: { exec: { kind: 'nodejs:20', code: 'function main() { return { ok: 1 }; }' } } });
      const ok = await http(second, 'POST', '/api/v1/namespaces/_/actions/quick?blocking=true&result=true', { body: {} });
      expect(ok.body).toEqual({ ok: 1 });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
