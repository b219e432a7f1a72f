/**
 * ScheduleStore on SQLite. It opens its own connection to the same database file as the entity
 * stores (WAL allows it) and keeps its table outside the entity migrations, so that the two evolve
 * independently.
 */
import Database from 'better-sqlite3';
import type { AlarmSchedule, ScheduleStore } from '@whirl/core';

export function openSqliteScheduleStore(path: string): ScheduleStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
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
