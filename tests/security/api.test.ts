/**
 * Attacks on the API of a real standalone (process containers: nothing here needs Docker): names
 * built to escape or impersonate (`..`, `/`, NUL, look-alike letters, over-long segments) on every
 * route and in every body field that names an entity; the exact per-minute throttle boundary; a
 * blocking invoke asking for a huge wait; a zip and a gzip bomb as action code. Each test fails when
 * its defence is taken away.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Limits, buildZip } from '@whirl/core';
import { http, startStandalone, type RunningStandalone } from '../helpers/standalone.js';

let s: RunningStandalone;
beforeAll(async () => {
  s = await startStandalone({
    env: { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false', WHIRL_CONCURRENT_INVOCATIONS: '1000' },
  });
  const put = await http(s, 'PUT', '/api/v1/namespaces/_/actions/ok', { body: { exec: { kind: 'nodejs:20', code: 'function main() { return { ok: true }; }' } } });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

const errorOf = (r: { body: unknown }): string => (r.body as { error?: string }).error ?? '';

/** Names that must never become an entity: path tricks, control characters, look-alikes, length. */
const BAD_NAMES: Record<string, string> = {
  dotdot: '..',
  'dot-dot-slash': '../ok',
  slash: 'a/b',
  backslash: 'a\\b',
  nul: 'a\u0000b',
  newline: 'a\nb',
  'cyrillic look-alike': 'h\u0435llo',
  'fullwidth look-alike': '\uff4fk',
  'zero-width joiner': 'o\u200dk',
  'right-to-left override': 'ok\u202e',
  'over-long': 'a'.repeat(Limits.nameLength + 1),
};

describe('names', () => {
  const collections = ['actions', 'triggers', 'rules', 'packages'] as const;
  const bodies: Record<(typeof collections)[number], unknown> = {
    actions: { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } },
    triggers: {},
    rules: { trigger: '/_/t', action: '/_/ok' },
    packages: {},
  };

  for (const [label, bad] of Object.entries(BAD_NAMES)) {
    it(`refuses ${label} as an entity name and as a namespace on every route`, async () => {
      const enc = encodeURIComponent(bad);
      for (const c of collections) {
        for (const method of ['PUT', 'GET', 'DELETE'] as const) {
          const r = await http(s, method, `/api/v1/namespaces/_/${c}/${enc}`, method === 'PUT' ? { body: bodies[c] } : {});
          expect(r.status, `${method} ${c}/${label}: ${r.text}`).toBeGreaterThanOrEqual(400);
          expect(r.status, `${method} ${c}/${label}: ${r.text}`).toBeLessThan(500);
        }
        const inNs = await http(s, 'GET', `/api/v1/namespaces/${enc}/${c}`);
        expect(inNs.status, `namespace ${label} on ${c}: ${inNs.text}`).toBeGreaterThanOrEqual(400);
        expect(inNs.status).toBeLessThan(500);
      }
      const invoke = await http(s, 'POST', `/api/v1/namespaces/_/actions/${enc}?blocking=true`, { body: {} });
      expect(invoke.status).toBeGreaterThanOrEqual(400);
      expect(invoke.status).toBeLessThan(500);
      const inPkg = await http(s, 'PUT', `/api/v1/namespaces/_/actions/${enc}/x`, { body: bodies.actions });
      expect(inPkg.status).toBeGreaterThanOrEqual(400);
      expect(inPkg.status).toBeLessThan(500);
      const web = await http(s, 'GET', `/api/v1/web/guest/default/${enc}.json`, { auth: null });
      expect(web.status).toBeGreaterThanOrEqual(400);
      expect(web.status).toBeLessThan(500);
    });

    it(`refuses ${label} inside bodies that name entities (rules, sequences, bindings)`, async () => {
      const rule = await http(s, 'PUT', '/api/v1/namespaces/_/rules/r-bad', { body: { trigger: `/_/${bad}`, action: '/_/ok' } });
      expect(rule.status, rule.text).toBe(400);
      const rule2 = await http(s, 'PUT', '/api/v1/namespaces/_/rules/r-bad', { body: { trigger: '/_/t', action: `/_/${bad}` } });
      expect(rule2.status, rule2.text).toBe(400);
      const seq = await http(s, 'PUT', '/api/v1/namespaces/_/actions/seq-bad', { body: { exec: { kind: 'sequence', components: ['/_/ok', `/_/${bad}`] } } });
      expect(seq.status, seq.text).toBe(400);
      const binding = await http(s, 'PUT', '/api/v1/namespaces/_/packages/b-bad', { body: { binding: { namespace: 'guest', name: bad } } });
      expect(binding.status, binding.text).toBe(400);
    });
  }

  it('stored nothing for any of them', async () => {
    for (const c of collections) {
      const list = await http(s, 'GET', `/api/v1/namespaces/_/${c}?limit=200`);
      const names = (list.body as { name: string }[]).map((e) => e.name);
      expect(names.filter((n) => n !== 'ok')).toEqual([]);
    }
  });

  it('says what to fix', async () => {
    const long = await http(s, 'PUT', `/api/v1/namespaces/_/actions/${'a'.repeat(Limits.nameLength + 1)}`, { body: bodies.actions });
    expect(errorOf(long)).toBe(`Name segement longer than allowed: ${Limits.nameLength + 1} > ${Limits.nameLength}.`);
    const lookalike = await http(s, 'PUT', `/api/v1/namespaces/_/actions/${encodeURIComponent('h\u0435llo')}`, { body: bodies.actions });
    expect(errorOf(lookalike)).toBe('The name of the entity contains illegal characters.');
  });
});

describe('blocking waits', () => {
  it('refuses a wait longer than the platform allows', async () => {
    for (const t of ['99999999999', String(Limits.blockingWaitMs.max + 1), '1e9', '-1']) {
      const r = await http(s, 'POST', `/api/v1/namespaces/_/actions/ok?blocking=true&timeout=${t}`, { body: {} });
      expect(r.status, t).toBe(400);
      expect(errorOf(r)).toBe(`Timeout must be number of milliseconds up to ${Limits.blockingWaitMs.max}.`);
    }
  });

  it("ends a blocking call at the action's own time limit, whatever wait was asked for", async () => {
    const put = await http(s, 'PUT', '/api/v1/namespaces/_/actions/forever', {
      body: { exec: { kind: 'nodejs:20', code: 'function main() { return new Promise(() => {}); }' }, limits: { timeout: 1000 } },
    });
    expect(put.status).toBe(200);
    // The client gives up at 50 s: had the controller held the connection for the 60 s asked for,
    // this would fail instead of returning the timeout record.
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 50_000);
    try {
      const res = await fetch(`${s.apiHost}/api/v1/namespaces/_/actions/forever?blocking=true&timeout=${Limits.blockingWaitMs.max}`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(s.auth).toString('base64')}`, 'content-type': 'application/json' },
        body: '{}',
        signal: ctl.signal,
      });
      const body = (await res.json()) as { response: { result: { error: string } } };
      expect(res.status).toBe(502);
      expect(body.response.result.error).toBe('The action exceeded its time limits of 1000 milliseconds.');
    } finally {
      clearTimeout(timer);
    }
  });
});

describe('archive bombs', () => {
  const MiB = 1024 * 1024;

  it('refuses a zip whose entries unpack past the limit, and stores nothing', async () => {
    // Entries of 64 MiB of zeros each, deflated once and repeated (honest headers, ~64 KiB apiece).
    const chunk = 64 * MiB;
    const deflated = deflateRawSync(Buffer.alloc(chunk));
    const n = Math.ceil(Limits.archiveExpandedBytes / chunk) + 1;
    let zip = buildZip([
      { name: 'index.js', data: Buffer.from('exports.main = () => ({});') },
      ...Array.from({ length: n }, (_, i) => ({ name: `f${i}.bin`, data: Buffer.alloc(1), method: 'deflate' as const })),
    ]);
    for (let i = 0; i < n; i++) zip = forgeEntryData(zip, `f${i}.bin`, deflated, chunk);
    expect(zip.length).toBeLessThan(2 * MiB);
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/zipbomb', { body: { exec: { kind: 'nodejs:20', code: zip.toString('base64') } } });
    expect(r.status, r.text).toBe(400);
    expect(errorOf(r)).toBe(
      `The action archive expands to more than ${Limits.archiveExpandedBytes} bytes, the most an action may unpack to; ship fewer or smaller files.`,
    );
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/zipbomb')).status).toBe(404);
  });

  it('refuses a zip whose headers understate what an entry inflates to', async () => {
    // One small-looking entry that really inflates to 32 MiB: its headers say 1 KiB.
    const big = deflateRawSync(Buffer.alloc(32 * MiB));
    const zip = buildZip([{ name: 'index.js', data: Buffer.from('exports.main = () => ({});') }, { name: 'lie.bin', data: Buffer.alloc(1024), method: 'deflate' }]);
    const lied = forgeEntryData(zip, 'lie.bin', big);
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/zipliar', { body: { exec: { kind: 'nodejs:20', code: lied.toString('base64') } } });
    expect(r.status, r.text).toBe(400);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/zipliar')).status).toBe(404);
  });

  it('refuses a tar.gz that inflates past the limit', async () => {
    // Gzip members concatenate: 9 of 64 MiB of zeros each, under a megabyte in all.
    const member = gzipSync(Buffer.alloc(64 * MiB));
    const gz = Buffer.concat(Array.from({ length: Math.ceil(Limits.archiveExpandedBytes / (64 * MiB)) + 1 }, () => member));
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/gzbomb', { body: { exec: { kind: 'nodejs:20', code: gz.toString('base64') } } });
    expect(r.status, r.text).toBe(400);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/gzbomb')).status).toBe(404);
  });

  it('still takes an ordinary zip action', async () => {
    const zip = buildZip([{ name: 'index.js', data: Buffer.from('exports.main = () => ({ zipped: true });') }]);
    const r = await http(s, 'PUT', '/api/v1/namespaces/_/actions/zipped', { body: { exec: { kind: 'nodejs:20', code: zip.toString('base64') } } });
    expect(r.status, r.text).toBe(200);
  });
});

describe('error codes', () => {
  it('names each failure in X-Whirl-Error-Code, while the body keeps OpenWhisk\'s {error, code: transid}', async () => {
    const missing = await http(s, 'GET', '/api/v1/namespaces/_/actions/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-whirl-error-code')).toBe('NOT_FOUND');
    expect((missing.body as { code: string }).code).toBe(missing.headers.get('x-request-id'));
    const other = await http(s, 'GET', '/api/v1/namespaces/someone-else/actions');
    expect(other.status).toBe(403);
    expect(other.headers.get('x-whirl-error-code')).toBe('NOT_ENTITLED');
    const again = await http(s, 'PUT', '/api/v1/namespaces/_/actions/ok', { body: { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } } });
    expect(again.status).toBe(409);
    expect(again.headers.get('x-whirl-error-code')).toBe('ENTITY_EXISTS');
    const noKey = await http(s, 'GET', '/api/v1/namespaces/_/actions', { auth: null });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('x-whirl-error-code')).toBe('UNAUTHENTICATED');
    const rule = await http(s, 'PUT', '/api/v1/namespaces/_/triggers/codes-t', { body: {} });
    expect(rule.status).toBe(200);
    const dangling = await http(s, 'PUT', '/api/v1/namespaces/_/rules/codes-r', { body: { trigger: '/_/codes-t', action: '/_/no-such-action' } });
    expect(dangling.status).toBe(400);
    expect(dangling.headers.get('x-whirl-error-code')).toBe('MISSING_REFERENCE');
  });
});

describe('invocations per minute', () => {
  it('lets exactly the limit through in a minute and refuses the next one with 429', async () => {
    // A namespace of its own: the other tests' invokes in this calendar minute must not count.
    const adminKey = readFileSync(path.join(s.dataDir, 'admin-key'), 'utf8').trim();
    const made = await http(s, 'PUT', '/admin/v1/subjects/throttled', { auth: null, headers: { authorization: `Bearer ${adminKey}` } });
    expect(made.status, made.text).toBe(201);
    const tenant = { apiHost: s.apiHost, auth: (made.body as { auth: string }).auth };
    const put = await http(tenant, 'PUT', '/api/v1/namespaces/_/actions/ok', { body: { exec: { kind: 'nodejs:20', code: 'function main() { return { ok: true }; }' } } });
    expect(put.status).toBe(200);
    // The window is the calendar minute: start early in a fresh one so all 61 calls land in it.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 20_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
    const statuses: number[] = [];
    for (let i = 0; i < Limits.invocationsPerMinute; i++) {
      statuses.push((await http(tenant, 'POST', '/api/v1/namespaces/_/actions/ok', { body: {} })).status);
    }
    expect(statuses.filter((x) => x !== 202)).toEqual([]);
    const over = await http(tenant, 'POST', '/api/v1/namespaces/_/actions/ok', { body: {} });
    expect(over.status).toBe(429);
    expect(errorOf(over)).toBe(`Too many requests in the last minute (count: ${Limits.invocationsPerMinute + 1}, allowed: ${Limits.invocationsPerMinute}).`);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('x-whirl-error-code')).toBe('INVOCATIONS_PER_MINUTE');
  });
});

/**
 * Rebuilds `zip` with `name`'s compressed bytes replaced by `data`; its declared uncompressed size
 * stays as it was unless `usize` is given.
 */
function forgeEntryData(zip: Buffer, name: string, data: Buffer, usize?: number): Buffer {
  // Layout of buildZip's output: local header + name + data per entry, then the central directory.
  const eocd = zip.length - 22;
  const cdOff = zip.readUInt32LE(eocd + 16);
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let p = cdOff;
  let out = 0;
  const count = zip.readUInt16LE(eocd + 10);
  for (let k = 0; k < count; k++) {
    const nameLen = zip.readUInt16LE(p + 28);
    const cdLen = 46 + nameLen + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
    const entryName = zip.toString('utf8', p + 46, p + 46 + nameLen);
    const localOff = zip.readUInt32LE(p + 42);
    const csize = zip.readUInt32LE(p + 20);
    const localLen = 30 + zip.readUInt16LE(localOff + 26) + zip.readUInt16LE(localOff + 28);
    const header = Buffer.from(zip.subarray(localOff, localOff + localLen));
    const body = entryName === name ? data : zip.subarray(localOff + localLen, localOff + localLen + csize);
    header.writeUInt32LE(body.length, 18);
    const central = Buffer.from(zip.subarray(p, p + cdLen));
    central.writeUInt32LE(body.length, 20);
    if (entryName === name && usize !== undefined) {
      header.writeUInt32LE(usize, 22);
      central.writeUInt32LE(usize, 24);
    }
    central.writeUInt32LE(out, 42);
    parts.push(header, body);
    centrals.push(central);
    out += header.length + body.length;
    p += cdLen;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.from(zip.subarray(eocd));
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(out, 16);
  return Buffer.concat([...parts, cd, end]);
}
