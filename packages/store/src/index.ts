export { openSqliteStores, type SqliteStores } from './sqlite.js';
