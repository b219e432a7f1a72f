/**
 * The store conformance suites against a real CouchDB-API server: pouchdb-server from
 * deploy/dev/couchdb.sh (or whatever already answers at COUCHDB_URL, e.g. a CouchDB 3).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import nano from 'nano';
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError, ServiceUnavailableError, verifyKey } from '@whirl/core';
import {
  describeActivationStoreContract,
  describeEntityStoreContract,
  describeScheduleStoreContract,
  describeStateStoreContract,
  describeSubjectStoreContract,
  fixtures,
} from './contract/index.js';
import { openCouchScheduleStore } from './couchdb-schedules.js';
import { openCouchStateStore } from './couchdb-state.js';
import { openCouchStores, type CouchStores } from './couchdb.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../deploy/dev/couchdb.sh', import.meta.url));
const url = process.env.COUCHDB_URL ?? 'http://whirl:whirl@127.0.0.1:15984';

/** Starts the dev server unless something answers; returns whether this file started it, or why not. */
async function ensureServer(): Promise<{ ok: true; started: boolean } | { ok: false; reason: string }> {
  if (process.env.COUCHDB_URL) return { ok: true, started: false };
  try {
    const { stdout } = await run(script, ['start'], { timeout: 60_000 });
    return { ok: true, started: stdout.trim() === 'started' };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, reason: (err.stderr ?? '').trim() || err.message };
  }
}

const server = await ensureServer();

afterAll(async () => {
  if (server.ok && server.started) await run(script, ['stop'], { timeout: 30_000 });
}, 60_000);

const prefix = (): string => `whirl_test_${randomBytes(5).toString('hex')}_`;

async function dropDatabases(p: string): Promise<void> {
  const couch = nano({ url });
  await Promise.all(['whisks', 'activations', 'subjects'].map((n) => couch.db.destroy(`${p}${n}`).catch(() => undefined)));
}

/** Fresh databases per test, dropped afterwards. */
function fresh<K extends 'entities' | 'activations' | 'subjects'>(which: K) {
  return async () => {
    const p = prefix();
    const stores = await openCouchStores(url, { prefix: p });
    return {
      store: stores[which],
      cleanup: async () => {
        await stores.close();
        await dropDatabases(p);
      },
    };
  };
}

if (!server.ok) {
  process.stderr.write(`[couchdb.test] CouchDB-API server unavailable, skipping: ${server.reason}\n`);
  describe('CouchDB stores', () => {
    it.skip(`need a CouchDB-API server (deploy/dev/couchdb.sh start failed: ${server.reason})`, () => {});
  });
} else {
  describeEntityStoreContract('couchdb', fresh('entities'));
  describeActivationStoreContract('couchdb', fresh('activations'));
  describeSubjectStoreContract('couchdb', fresh('subjects'));
  describeScheduleStoreContract('couchdb', async () => {
    const p = prefix();
    const store = await openCouchScheduleStore(url, { prefix: p });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await nano({ url }).db.destroy(`${p}schedules`).catch(() => undefined);
      },
    };
  });
  describeStateStoreContract('couchdb', async () => {
    const p = prefix();
    const store = await openCouchStateStore(url, { prefix: p });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await nano({ url }).db.destroy(`${p}feedstate`).catch(() => undefined);
      },
    };
  });

  describe('couchdb adapter', () => {
    const opened: { stores: CouchStores; prefix: string }[] = [];
    const open = async (p = prefix()): Promise<CouchStores> => {
      const stores = await openCouchStores(url, { prefix: p });
      opened.push({ stores, prefix: p });
      return stores;
    };
    afterAll(async () => {
      for (const o of opened) {
        await o.stores.close();
        await dropDatabases(o.prefix);
      }
    });

    it('opens an existing set of databases again (design documents already there)', async () => {
      const p = prefix();
      const first = await open(p);
      const created = await first.entities.create(fixtures.action('guest', 'hello', 1));
      const second = await open(p);
      expect(await second.entities.get('guest/hello')).toEqual({ rev: created.rev, doc: fixtures.action('guest', 'hello', 1) });
    });

    it('lets exactly one of two concurrent updates with the same revision win', async () => {
      const stores = await open();
      const created = await stores.entities.create(fixtures.trigger('guest', 't', 1));
      const results = await Promise.allSettled([
        stores.entities.update(fixtures.trigger('guest', 't', 2), created.rev),
        stores.entities.update(fixtures.trigger('guest', 't', 3), created.rev),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(ConflictError);
    });

    it('upserts a batch mixing new and existing activations', async () => {
      const stores = await open();
      const a = fixtures.activation('guest', 'a', 1, { path: 'guest/a' });
      const b = fixtures.activation('guest', 'b', 2, { path: 'guest/b' });
      await stores.activations.put([a]);
      const a2 = { ...a, end: 99 };
      await stores.activations.put([a2, b, { ...b, end: 42 }]);
      expect(await stores.activations.get('guest', a.activationId)).toEqual(a2);
      expect((await stores.activations.get('guest', b.activationId))?.end).toBe(42);
      expect(await stores.activations.count({ namespace: 'guest' })).toBe(2);
    });

    it('recreates an entity after delete', async () => {
      const stores = await open();
      const first = await stores.entities.create(fixtures.action('guest', 'x', 1));
      await stores.entities.delete('guest/x', first.rev);
      const again = await stores.entities.create(fixtures.action('guest', 'x', 2));
      expect((await stores.entities.get('guest/x'))?.rev).toBe(again.rev);
    });

    it('hashes the clear keys of subjects written before keys were hashed, at open', async () => {
      const p = prefix();
      await open(p);
      const key = 'k'.repeat(64);
      await nano({ url })
        .use(`${p}subjects`)
        .insert({ _id: 'legacy', kind: 'subject', subject: { subject: 'legacy', namespaces: [{ name: 'legacy', uuid: 'u-legacy', key }] }, at: 1 } as never);
      const again = await open(p);
      const found = await again.subjects.credential('u-legacy');
      expect(found?.subject.subject).toBe('legacy');
      expect(JSON.stringify(await nano({ url }).use(`${p}subjects`).get('legacy'))).not.toContain(key);
      expect(await verifyKey(key, found!.credential.keyHash)).toBe(true);
    });

    it('answers ServiceUnavailableError when the server cannot be reached', async () => {
      await expect(openCouchStores('http://127.0.0.1:1', { prefix: prefix() })).rejects.toThrow(ServiceUnavailableError);
    });
  });
}
