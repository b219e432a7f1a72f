/**
 * `/whisk.system/couchdb/changes`: fires a trigger for each change of a user's CouchDB-API database
 * with `{dbname, id, seq, changes}` (plus `deleted` for deletions), as OpenWhisk's Cloudant/CouchDB
 * changes feed does. The source long-polls `_changes` from the sequence stored in the feed status,
 * and stores each change's `seq` after its fire was accepted, so a restart or a new leader resumes
 * after the last fired change. The database is the user's, reached over plain HTTP(S).
 */
import http from 'node:http';
import https from 'node:https';
import { FeedError, stringParam, type FeedSpec } from './lifecycle.js';
import { SourceStopped, type SourceStarter } from './manager.js';
import { sleep } from './fire.js';

interface CouchConfig {
  host: string;
  dbname: string;
  username?: string;
  password?: string;
  filter?: string;
  query_params?: Record<string, string>;
}

/** `host` may carry its scheme (`http://h:5984`); without one it is https, as for Cloudant. */
function baseUrl(host: string): URL {
  const withScheme = /^https?:\/\//.test(host) ? host : `https://${host}`;
  try {
    return new URL(withScheme);
  } catch {
    throw new FeedError(`The host parameter '${host}' is not a valid host or URL, e.g. "http://127.0.0.1:5984".`);
  }
}

function request(url: URL, c: CouchConfig, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
  const lib = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (c.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method: 'GET', headers, timeout: timeoutMs, ...(signal ? { signal } : {}) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function dbUrl(c: CouchConfig, path = ''): URL {
  const u = baseUrl(c.host);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${encodeURIComponent(c.dbname)}${path}`;
  return u;
}

export const couchdbFeedSpec: FeedSpec = {
  kind: 'couchdb',
  action: 'couchdb/changes',
  updatable: ['host', 'dbname', 'username', 'password', 'filter', 'query_params'],
  async configure(p, base) {
    const host = stringParam(p, 'host', base, 'the database server, e.g. "http://127.0.0.1:5984"');
    const c: CouchConfig = { host, dbname: stringParam(p, 'dbname', base, 'the database to watch') };
    baseUrl(host);
    const user = p.username ?? base?.username;
    if (user !== undefined && user !== '') {
      c.username = String(user);
      c.password = String(p.password ?? base?.password ?? '');
    }
    const filter = p.filter ?? base?.filter;
    if (filter !== undefined && filter !== '') {
      if (typeof filter !== 'string' || !/^[^/]+\/[^/]+$/.test(filter)) throw new FeedError(`The filter parameter '${String(filter)}' must be "designdoc/filtername".`);
      c.filter = filter;
    }
    const qp = p.query_params ?? base?.query_params;
    if (qp !== undefined && qp !== '') {
      let obj: unknown = qp;
      if (typeof qp === 'string') {
        try {
          obj = JSON.parse(qp);
        } catch {
          obj = undefined;
        }
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new FeedError('The query_params parameter must be a JSON object of the filter\'s query parameters.');
      c.query_params = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    }
    const hostName = baseUrl(host).host;
    let r;
    try {
      r = await request(dbUrl(c), c, 5_000);
    } catch (e) {
      throw new FeedError(`The database host ${hostName} cannot be reached (${(e as Error).message}); check the host parameter.`);
    }
    if (r.status === 401 || r.status === 403) throw new FeedError(`The database host ${hostName} refused the credentials for database '${c.dbname}'; check username and password.`);
    if (r.status === 404) throw new FeedError(`The database '${c.dbname}' does not exist on ${hostName}; create it first.`);
    if (r.status !== 200) throw new FeedError(`The database host ${hostName} answered ${r.status} for database '${c.dbname}'.`);
    const seq = (r.body as { update_seq?: unknown }).update_seq;
    return { config: { ...c }, position: { seq: seq ?? 0 } };
  },
  sourceOf: (c) => `${String(c.host)}/${String(c.dbname)}/${String(c.filter ?? '')}/${JSON.stringify(c.query_params ?? {})}`,
  show: (c) => {
    const { password: _p, ...rest } = c;
    return rest;
  },
};

export const startCouchdbSource: SourceStarter = async (reg, io) => {
  const c = reg.config as unknown as CouchConfig;
  // Checked once here so that a database that went away shows `retrying` with the reason at once.
  const probe = await request(dbUrl(c), c, 5_000);
  if (probe.status !== 200) throw new Error(`the database '${c.dbname}' answered ${probe.status}`);
  let since: unknown = io.status.position?.seq ?? 0;
  const loop = (async () => {
    await io.report({ state: 'running' });
    for (let failures = 0; !io.signal.aborted; ) {
      try {
        const u = dbUrl(c, '/_changes');
        u.searchParams.set('feed', 'longpoll');
        u.searchParams.set('timeout', '10000');
        u.searchParams.set('limit', '500');
        u.searchParams.set('since', typeof since === 'string' ? since : JSON.stringify(since));
        if (c.filter) u.searchParams.set('filter', c.filter);
        for (const [k, v] of Object.entries(c.query_params ?? {})) u.searchParams.set(k, v);
        const r = await request(u, c, 15_000, io.signal);
        if (r.status !== 200) throw new Error(`_changes answered ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
        const body = r.body as { results?: { id: string; seq: unknown; changes: unknown; deleted?: boolean }[]; last_seq?: unknown };
        if (failures > 0) await io.report({ state: 'running' });
        failures = 0;
        for (const ch of body.results ?? []) {
          await io.fire({ dbname: c.dbname, id: ch.id, seq: ch.seq, changes: ch.changes, ...(ch.deleted ? { deleted: true } : {}) });
          since = ch.seq;
          await io.report({ position: { seq: since } });
        }
        if ((body.results ?? []).length === 0 && body.last_seq !== undefined && body.last_seq !== since) {
          since = body.last_seq;
          await io.report({ position: { seq: since } });
        }
      } catch (e) {
        if (io.signal.aborted || e instanceof SourceStopped) return;
        failures += 1;
        await io.report({ state: 'retrying', lastError: (e as Error).message }).catch(() => undefined);
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 10)), io.signal);
      }
    }
  })();
  return {
    async close() {
      await loop;
    },
  };
};
