/**
 * `node --import tsx deploy/admin.ts <namespace> [--limits '{"invocationsPerMinute":120}']`: creates
 * (or shows) a subject with a random key in the distributed store, and sets per-namespace limits.
 * Reads WHIRL_COUCHDB_URL and WHIRL_DB_PREFIX like the controller.
 */
import { parseArgs } from 'node:util';
import { checkName, newCredential, type UserLimits } from '@whirl/core';
import { openCouchStores } from '@whirl/store';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { limits: { type: 'string' } } });
const ns = positionals[0];
const url = process.env.WHIRL_COUCHDB_URL;
if (!ns || !url) {
  process.stderr.write('usage: WHIRL_COUCHDB_URL=... admin.ts <namespace> [--limits JSON]\n');
  process.exit(2);
}
checkName(ns, 'namespace');
const stores = await openCouchStores(url, { prefix: process.env.WHIRL_DB_PREFIX ?? 'whirl_' });
try {
  const existing = await stores.subjects.getSubject(ns);
  let cred = existing?.namespaces.find((n) => n.name === ns);
  if (!cred) {
    cred = newCredential(ns);
    await stores.subjects.putSubject({ subject: ns, namespaces: [...(existing?.namespaces ?? []), cred] });
  }
  if (values.limits) await stores.subjects.putLimits(ns, JSON.parse(values.limits) as Partial<UserLimits>);
  process.stdout.write(`AUTH=${cred.uuid}:${cred.key} NAMESPACE=${ns}\n`);
} finally {
  await stores.close();
}
