import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyKey } from '@whirl/core';
import {
  describeActivationStoreContract,
  describeEntityStoreContract,
  describeScheduleStoreContract,
  describeStateStoreContract,
  describeSubjectStoreContract,
  fixtures,
} from './contract/index.js';
import { openSqliteScheduleStore } from './sqlite-schedules.js';
import { openSqliteStateStore } from './sqlite-state.js';
import { openSqliteStores } from './sqlite.js';

function memory<K extends 'entities' | 'activations' | 'subjects'>(which: K) {
  return async () => {
    const stores = openSqliteStores(':memory:');
    return { store: stores[which], cleanup: () => stores.close() };
  };
}

describeEntityStoreContract('sqlite', memory('entities'));
describeActivationStoreContract('sqlite', memory('activations'));
describeSubjectStoreContract('sqlite', memory('subjects'));
describeScheduleStoreContract('sqlite', async () => {
  const store = openSqliteScheduleStore(':memory:');
  return { store, cleanup: () => store.close() };
});
describeStateStoreContract('sqlite', async () => {
  const store = openSqliteStateStore(':memory:');
  return { store, cleanup: () => store.close() };
});

describe('sqlite file', () => {
  const dirs: string[] = [];
  const tempFile = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'whirl-store-'));
    dirs.push(dir);
    return join(dir, 'whirl.db');
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps data across close and reopen', async () => {
    const file = tempFile();
    const first = openSqliteStores(file);
    const created = await first.entities.create(fixtures.action('guest', 'hello', 1));
    const rec = fixtures.activation('guest', 'hello', 10, { path: 'guest/hello' });
    await first.activations.put([rec]);
    const subject = { subject: 'guest', namespaces: [{ name: 'guest', uuid: 'u', keyHash: 'scrypt$1$1$1$AA==$AA==' }] };
    await first.subjects.putSubject(subject);
    await first.subjects.putLimits('guest', { invocationsPerMinute: 3 });
    await first.close();
    await first.close();

    const second = openSqliteStores(file);
    try {
      expect(await second.entities.get('guest/hello')).toEqual({ rev: created.rev, doc: fixtures.action('guest', 'hello', 1) });
      expect(await second.activations.get('guest', rec.activationId)).toEqual(rec);
      expect(await second.activations.count({ namespace: 'guest', name: 'hello' })).toBe(1);
      expect(await second.subjects.credential('u')).toEqual({ subject, credential: subject.namespaces[0] });
      expect(await second.subjects.getLimits('guest')).toEqual({ invocationsPerMinute: 3 });
    } finally {
      await second.close();
    }
  });

  it('opens in WAL mode with a versioned schema', async () => {
    const file = tempFile();
    const stores = openSqliteStores(file);
    await stores.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(3);
    } finally {
      db.close();
    }
  });

  it('hashes the clear keys of a file from before keys were hashed, once, at open', async () => {
    const file = tempFile();
    // A version-2 file (usage metering, keys still in the clear): today's schema with the old
    // credentials table put back.
    await openSqliteStores(file).close();
    const db = new Database(file);
    db.exec(`DROP TABLE credentials;
      CREATE TABLE credentials (uuid TEXT NOT NULL, key TEXT NOT NULL, namespace TEXT NOT NULL, subject TEXT NOT NULL, PRIMARY KEY (uuid, key, namespace));`);
    const key = 'k'.repeat(64);
    db.prepare('INSERT INTO subjects VALUES (?, 0, ?)').run('guest', JSON.stringify({ subject: 'guest', namespaces: [{ name: 'guest', uuid: 'u', key }] }));
    db.prepare('INSERT INTO credentials VALUES (?, ?, ?, ?)').run('u', key, 'guest', 'guest');
    db.pragma('user_version = 2');
    db.close();

    const stores = openSqliteStores(file);
    try {
      const found = await stores.subjects.credential('u');
      expect(found?.subject.subject).toBe('guest');
      expect(JSON.stringify(found)).not.toContain(key);
      expect(await verifyKey(key, found!.credential.keyHash)).toBe(true);
      expect(await verifyKey('x'.repeat(64), found!.credential.keyHash)).toBe(false);
    } finally {
      await stores.close();
    }
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare('SELECT body FROM subjects').all().map((r) => (r as { body: string }).body).join()).not.toContain(key);
    } finally {
      raw.close();
    }
  });

  it('refuses a file written by a newer schema', async () => {
    const file = tempFile();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openSqliteStores(file)).toThrow(/newer/);
  });

  it('closes the connection only once every store is closed', async () => {
    const stores = openSqliteStores(':memory:');
    await stores.entities.close();
    await stores.entities.close();
    expect(await stores.activations.count({ namespace: 'guest' })).toBe(0);
    await stores.activations.close();
    await stores.subjects.close();
    await expect(stores.subjects.getLimits('guest')).rejects.toThrow();
    await stores.close();
  });
});
