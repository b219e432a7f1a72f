/** Starting the bare Fastify floor server (see floor-server.ts). */
import type { LoadTarget } from './load.js';
import { spawnReady, tsxArgv } from './proc.js';
import type { Scope } from './scope.js';

export async function startFloorServer(scope: Scope): Promise<{ target: LoadTarget; pid: number }> {
  const p = await spawnReady(scope, 'Fastify floor server', tsxArgv('bench/lib/floor-server.ts'), { ready: /^FLOOR=(\S+)$/m });
  const origin = p.line.slice('FLOOR='.length);
  return {
    pid: p.pid,
    // The same shape of request as an invoke: a POST with a small JSON body.
    target: { origin, paths: ['/floor'], method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
  };
}
