/**
 * ActivationJournal on SQLite: one small row per activation in flight, in the same database file as
 * the stores (its own connection; WAL allows it). A begin and an end are one indexed insert and one
 * delete each, a few microseconds.
 */
import Database from 'better-sqlite3';
import type { ActivationJournal, PendingActivation } from '@whirl/core';

export function openSqliteJournal(path: string): ActivationJournal {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS pending_activations (
    doc_id TEXT PRIMARY KEY,
    body   TEXT NOT NULL
  )`);
  const insert = db.prepare<[string, string]>('INSERT OR REPLACE INTO pending_activations (doc_id, body) VALUES (?, ?)');
  const remove = db.prepare<[string]>('DELETE FROM pending_activations WHERE doc_id = ?');
  const removeMany = db.transaction((ids: string[]) => {
    for (const id of ids) remove.run(id);
  });
  const all = db.prepare<[], { body: string }>('SELECT body FROM pending_activations');
  return {
    async begin(e) {
      insert.run(`${e.namespace}/${e.activationId}`, JSON.stringify(e));
    },
    async end(keys) {
      if (keys.length > 0 && db.open) removeMany(keys.map((k) => `${k.namespace}/${k.activationId}`));
    },
    async open() {
      return all.all().map((r) => JSON.parse(r.body) as PendingActivation);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
