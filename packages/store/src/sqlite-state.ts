/**
 * StateStore on SQLite: its own connection to the deployment's database file (WAL), one table of
 * JSON documents and one of leases. A lease is taken in one `BEGIN IMMEDIATE` transaction, so two
 * processes sharing the file cannot both win it.
 */
import type { StateStore } from '@whirl/core';
import { openSqliteFile } from './sqlite-file.js';

export function openSqliteStateStore(path: string): StateStore {
  const db = openSqliteFile(path);
  db.exec(`CREATE TABLE IF NOT EXISTS feed_state (id TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires INTEGER NOT NULL)`);
  const getStmt = db.prepare<[string], { body: string }>('SELECT body FROM feed_state WHERE id = ?');
  const putStmt = db.prepare<[string, string]>('INSERT INTO feed_state (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body');
  const deleteStmt = db.prepare<[string]>('DELETE FROM feed_state WHERE id = ?');
  // Prefix match by range, so that `_` and `%` in ids are not wildcards.
  const listStmt = db.prepare<[string, string], { id: string; body: string }>('SELECT id, body FROM feed_state WHERE id >= ? AND id < ? ORDER BY id');
  const leaseGet = db.prepare<[string], { holder: string; expires: number }>('SELECT holder, expires FROM leases WHERE name = ?');
  const leasePut = db.prepare<[string, string, number]>(
    'INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires',
  );
  const leaseDelete = db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?');
  const acquire = db.transaction((name: string, holder: string, ttlMs: number, now: number): boolean => {
    const cur = leaseGet.get(name);
    if (cur && cur.holder !== holder && cur.expires > now) return false;
    leasePut.run(name, holder, now + ttlMs);
    return true;
  });
  return {
    async get<T>(id: string) {
      const row = getStmt.get(id);
      return row ? (JSON.parse(row.body) as T) : undefined;
    },
    async put(id, doc) {
      putStmt.run(id, JSON.stringify(doc));
    },
    async delete(id) {
      return deleteStmt.run(id).changes > 0;
    },
    async list<T>(prefix: string) {
      return listStmt.all(prefix, `${prefix}\uffff`).map((r) => ({ id: r.id, doc: JSON.parse(r.body) as T }));
    },
    async acquireLease(name, holder, ttlMs, now) {
      return acquire.immediate(name, holder, ttlMs, now);
    },
    async releaseLease(name, holder) {
      leaseDelete.run(name, holder);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
