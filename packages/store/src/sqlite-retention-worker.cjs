/*
 * The retention sweeper's deletes for a SQLite file, on a worker thread with its own connection, so
 * that a batch never holds the event loop that serves invocations (see sqlite-retention.ts). Plain
 * CommonJS because a worker thread starts without the TypeScript loader that runs the rest of Whirl.
 *
 * Messages in: { id, namespace, before, limit }; out: { id, changes } or { id, error, code }.
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');

const db = new Database(workerData.path, { fileMustExist: true });
// The settings of every Whirl connection (sqlite-file.ts): WAL lets the main connection read on while
// a batch deletes, and busy_timeout makes this side, not the main thread, wait for the write lock.
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
// The statement of the in-thread adapter (sqlite.ts, deleteOldStmt), one autocommit transaction per call.
const deleteOld = db.prepare(
  `DELETE FROM activations WHERE doc_id IN (
     SELECT doc_id FROM activations INDEXED BY activations_by_start WHERE namespace = ? AND start < ? ORDER BY start ASC LIMIT ?)`,
);

parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const changes = deleteOld.run(m.namespace, m.before, m.limit).changes;
    // Checkpoint here, right after this side's writes: left to auto-checkpoint, the copy of the
    // deleted pages into the database often fell to the main connection's next commit (the one that
    // crossed the WAL's 1 000-page mark), on the thread that serves invocations.
    if (changes > 0) db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ id: m.id, changes });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e), code: e && e.code });
  }
});
