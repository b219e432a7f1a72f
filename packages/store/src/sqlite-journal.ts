/**
 * ActivationJournal on SQLite: one small row per activation in flight, in the same database file as
 * the stores (its own connection; WAL allows it). A begin and an end are one indexed insert and one
 * delete each, a few microseconds.
 */
import { openSqliteFile } from './sqlite-file.js';
import type { ActivationJournal, PendingActivation } from '@whirl/core';

export function openSqliteJournal(path: string): ActivationJournal {
  const db = openSqliteFile(path);
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
