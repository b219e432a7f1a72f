/**
 * A second tenant for cross-namespace tests: written straight into the running standalone's SQLite
 * file (WAL lets a second connection in), because Whirl has no admin API for subjects yet.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { openSqliteStores } from '../../packages/store/src/index.js';

export async function addTenant(dataDir: string, name: string): Promise<string> {
  const stores = openSqliteStores(path.join(dataDir, 'whirl.db'));
  try {
    const cred = { name, uuid: randomUUID(), key: randomBytes(48).toString('base64url').slice(0, 64) };
    await stores.subjects.putSubject({ subject: name, namespaces: [cred] });
    return `${cred.uuid}:${cred.key}`;
  } finally {
    await stores.close();
  }
}
