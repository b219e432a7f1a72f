/**
 * A second tenant for cross-namespace tests: written straight into the running standalone's SQLite
 * file (WAL lets a second connection in), with its key hashed as the admin API stores it
 * (tests/admin covers the admin API itself).
 */
import path from 'node:path';
import { newCredential, storedCredential } from '../../packages/core/src/index.js';
import { openSqliteStores } from '../../packages/store/src/index.js';

export async function addTenant(dataDir: string, name: string): Promise<string> {
  const stores = openSqliteStores(path.join(dataDir, 'whirl.db'));
  try {
    const cred = newCredential(name);
    await stores.subjects.putSubject({ subject: name, namespaces: [await storedCredential(cred)] });
    return `${cred.uuid}:${cred.key}`;
  } finally {
    await stores.close();
  }
}
