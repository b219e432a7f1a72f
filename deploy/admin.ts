/**
 * `node --import tsx deploy/admin.ts <namespace> [--new-key] [--limits '{"invocationsPerMinute":120}']`:
 * creates a subject with a random key straight in the distributed store (for bootstrapping, before
 * any controller has WHIRL_ADMIN_KEY), and sets per-namespace limits. Keys are stored hashed, so a key
 * is printed only when it is created: for an existing namespace pass --new-key to add one (the old
 * keys keep working until removed with the admin API, `whirl admin user`). Reads WHIRL_COUCHDB_URL and
 * WHIRL_DB_PREFIX like the controller. Prefer the admin API (`/admin/v1`, docs/admin-api.md).
 */
import { parseArgs } from 'node:util';
import { checkName, newCredential, storedCredential, type UserLimits } from '@whirl/core';
import { openCouchStores } from '@whirl/store';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { limits: { type: 'string' }, 'new-key': { type: 'boolean' } },
});
const ns = positionals[0];
const url = process.env.WHIRL_COUCHDB_URL;
if (!ns || !url) {
  process.stderr.write('usage: WHIRL_COUCHDB_URL=... admin.ts <namespace> [--new-key] [--limits JSON]\n');
  process.exit(2);
}
checkName(ns, 'namespace');
const stores = await openCouchStores(url, { prefix: process.env.WHIRL_DB_PREFIX ?? 'whirl_' });
try {
  const existing = await stores.subjects.getSubject(ns);
  const has = existing?.namespaces.some((n) => n.name === ns) === true;
  if (!has || values['new-key'] === true) {
    const cred = newCredential(ns);
    await stores.subjects.putSubject({ subject: ns, ...(existing ?? {}), namespaces: [...(existing?.namespaces ?? []), await storedCredential(cred)] });
    process.stdout.write(`AUTH=${cred.uuid}:${cred.key} NAMESPACE=${ns}\n`);
  } else {
    process.stdout.write(`namespace ${ns} exists; its keys are stored hashed and cannot be shown (pass --new-key to add one)\n`);
  }
  if (values.limits) await stores.subjects.putLimits(ns, JSON.parse(values.limits) as Partial<UserLimits>);
} finally {
  await stores.close();
}
