export type { Stores } from './stores.js';
export { openSqliteStores, type SqliteStores, type SqliteStoreOptions } from './sqlite.js';
export { openSqliteScheduleStore } from './sqlite-schedules.js';
export { openSqliteJournal } from './sqlite-journal.js';
export { openCouchScheduleStore } from './couchdb-schedules.js';
export { openCouchStores, type CouchStores, type CouchStoreOptions } from './couchdb.js';
export { openSqliteStateStore } from './sqlite-state.js';
export { openCouchStateStore } from './couchdb-state.js';
