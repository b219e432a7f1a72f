/**
 * ScheduleStore on SQLite. It opens its own connection to the same database file as the entity
 * stores (WAL allows it) and keeps its table outside the entity migrations, so that the two evolve
 * independently.
 */
import { openSqliteFile } from './sqlite-file.js';
import type { AlarmSchedule, ScheduleStore } from '@whirl/core';

export function openSqliteScheduleStore(path: string): ScheduleStore {
  const db = openSqliteFile(path);
  db.exec(`CREATE TABLE IF NOT EXISTS alarm_schedules (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
  )`);
  const getStmt = db.prepare<[string], { body: string }>('SELECT body FROM alarm_schedules WHERE id = ?');
  const putStmt = db.prepare<[string, string]>(
    'INSERT INTO alarm_schedules (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body',
  );
  const deleteStmt = db.prepare<[string]>('DELETE FROM alarm_schedules WHERE id = ?');
  const listStmt = db.prepare<[], { body: string }>('SELECT body FROM alarm_schedules ORDER BY id');
  return {
    async get(id) {
      const row = getStmt.get(id);
      return row ? (JSON.parse(row.body) as AlarmSchedule) : undefined;
    },
    async put(s) {
      putStmt.run(s.id, JSON.stringify(s));
    },
    async delete(id) {
      return deleteStmt.run(id).changes > 0;
    },
    async list() {
      return listStmt.all().map((r) => JSON.parse(r.body) as AlarmSchedule);
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
