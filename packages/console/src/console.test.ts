import { readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { parseKeyPaste } from '../web/paste.js';
import { consoleDir, consolePlugin } from './index.js';
import { BUILD_INFO, sourceHash } from './source-hash.js';

describe('the checked-in console bundle', () => {
  it('was built from the sources as they are (else run `pnpm build:console` and commit dist/)', () => {
    const info = JSON.parse(readFileSync(path.join(consoleDir, BUILD_INFO), 'utf8')) as { sourceHash: string };
    expect(info.sourceHash).toBe(sourceHash());
  });
});

describe('consolePlugin', () => {
  it('redirects /console, serves index.html with a same-origin CSP, and 404s unknown files', async () => {
    const app = Fastify();
    await app.register(consolePlugin);
    const r = await app.inject({ url: '/console' });
    expect(r.statusCode).toBe(308);
    expect(r.headers.location).toBe('/console/');
    const index = await app.inject({ url: '/console/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-security-policy']).toMatch(/default-src 'self'.*connect-src 'self'/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toContain('<div id="app">');
    expect((await app.inject({ url: '/console/assets/missing.js' })).statusCode).toBe(404);
    await app.close();
  });
});

describe('parseKeyPaste', () => {
  const key = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
  it.each([
    [key, { auth: key }],
    [`  ${key}\n`, { auth: key }],
    [`APIHOST=http://127.0.0.1:3233\nAUTH=${key}\nNAMESPACE=guest\n`, { auth: key, apiHost: 'http://127.0.0.1:3233' }],
    [`APIHOST=http://127.0.0.1:3233 AUTH=${key} NAMESPACE=guest`, { auth: key, apiHost: 'http://127.0.0.1:3233' }],
    [`export AUTH="${key}"`, { auth: key }],
  ])('reads %j', (text, want) => {
    expect(parseKeyPaste(text)).toEqual(want);
  });
  it.each([
    ['', 'Paste the namespace key'],
    ['APIHOST=http://x\n', 'no AUTH= line'],
    ['not a key', 'uuid:key'],
    ['AUTH=a:b:c', 'uuid:key'],
  ])('refuses %j with a sentence', (text, words) => {
    const r = parseKeyPaste(text);
    expect('error' in r && r.error).toContain(words);
  });
});
