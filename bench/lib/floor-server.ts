/**
 * The throughput floor: a bare Fastify route answering `{}` in its own process, as the controller
 * runs in its own. Fastify is the controller's dependency, so it is resolved from there rather than
 * added to the root package.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './proc.js';

interface MiniFastify {
  post(path: string, handler: () => Promise<object>): void;
  listen(opts: { port: number; host: string }): Promise<string>;
}
type FastifyFactory = (opts: { logger: boolean }) => MiniFastify;

const resolved = createRequire(path.join(repoRoot, 'packages/controller/package.json')).resolve('fastify');
const mod = (await import(pathToFileURL(resolved).href)) as { default: FastifyFactory };
const app = mod.default({ logger: false });
app.post('/floor', async () => ({}));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`FLOOR=${address}\n`);
process.on('SIGTERM', () => process.exit(0));
