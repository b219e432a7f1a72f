/**
 * Every SQLite connection Whirl opens (stores, journal, schedules share one file, each with its own
 * connection) gets the same settings.
 */
import Database from 'better-sqlite3';

export function openSqliteFile(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL can lose the last commits on power loss but never corrupts; activations and
    // entity writes are cheap to lose compared with an fsync per invoke.
    db.pragma('synchronous = NORMAL');
    // Another connection (the journal, the schedules, a second process) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
