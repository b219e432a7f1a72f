/**
 * The web console as a Fastify plugin: serves the built single-page app (`dist/`, checked in and
 * rebuilt by `pnpm build:console`) under `/console/`. The app itself talks to `/api/v1` with the
 * namespace key, so serving it needs no credentials and no state here.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const consoleDir = fileURLToPath(new URL('../dist/', import.meta.url));

// Everything the page loads comes from this origin: no CDN, no inline script. CodeMirror and uPlot
// set element styles at run time, hence 'unsafe-inline' for styles only.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export async function consolePlugin(app: FastifyInstance): Promise<void> {
  if (!existsSync(`${consoleDir}index.html`)) {
    // A checkout without the bundle (it is checked in, so only after a failed `pnpm build:console`).
    app.get('/console', async (_req, reply) =>
      reply.code(503).type('text/plain').send('The console is not built; run `pnpm build:console`.\n'),
    );
    return;
  }
  app.get('/console', async (_req, reply) => reply.redirect('/console/', 308));
  await app.register(fastifyStatic, {
    root: consoleDir,
    prefix: '/console/',
    index: ['index.html'],
    wildcard: true,
    cacheControl: false,
    setHeaders: (reply, filePath) => {
      reply.header('Content-Security-Policy', CSP);
      reply.header('X-Content-Type-Options', 'nosniff');
      reply.header('Referrer-Policy', 'no-referrer');
      // File names under assets/ carry a content hash; index.html must be revalidated.
      reply.header('Cache-Control', filePath.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
